// One time step of the ASE engine's photon transport (src/ase/photons.rs): every
// packet alive at the step's start moves until the step ends or it leaves or dies,
// gaining or losing weight by the net gain of the film cell it is in at its
// wavelength, and keeps what it exchanged with each cell it met. The host settles
// that exchange against the platelets, as it does for the CPU transport. One
// invocation per packet; each packet draws from its own stream
// (Photon, point, step, packet id), the stream of the CPU. Single precision; times
// are counted from the step's start.
// The structs AseParams, GpuSlab, GpuLayer, GpuPacket, MovedPacket and Entry are emitted from src/gpu/shared/structs.rs.

// From src/gpu/shared/constants.rs: the layers FILM and SUBSTRATE, PURPOSE_PHOTON, the fates
// (ALIVE, EXITED, KILLED, OVERFLOW: the packet met more cells than it has entries for,
// or took more segments than the device's loops allow (`passes`), and the host follows
// it on the CPU instead), the exits (DETECTOR, OTHER_EDGES, SURFACE, SUBSTRATE_EXIT),
// ENTRIES (exchange entries a packet holds for one step, one per cell it meets: two
// vec4s of registers each for their cells and photons, e_cell, e_stim and e_abs below)
// and PACKETS_PER_ROW.
const_assert ENTRIES == 8u;

// The events ending a segment (BUDGET, SCATTER, FACE, EDGE, CELL_PLANE), INFINITE, and
// the mover's core that both transport kernels share are in shared/mover.wgsl.

// Whether any layer scatters, fixed when the pipeline is built: on a SIMD device the
// scattering branches cost every lane their time even where no lane takes them.
override SCATTERING: bool = true;

// What a packet did during the step, as it moves.
struct StepRecord {
    background: f32,
    roulette_net: f32,
    segments: u32,
    fate: u32,
    exit: u32,
}

@group(0) @binding(0) var<uniform> p: AseParams;
// The packets come in as a texture (a GpuPacket is three texels, PACKETS_PER_ROW
// packets a row) and go out as a MovedPacket each in `packets`; the entries too are
// whole vec4s, word for word those structs. Lavapipe loads a storage buffer's words
// one SIMD lane and one word at a time, each through the stack, but fetches texels
// for all lanes at once; it stores a vec4 in one pass over the lanes where four
// scalars take four. Moving the packets' words is most of the kernel's time there.
@group(0) @binding(1) var<storage, read_write> packets: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> entries: array<vec4<u32>>;
// cells × bins, cm⁻¹; real excitons per cell at the step's start.
@group(0) @binding(3) var<storage, read> stim: array<f32>;
@group(0) @binding(4) var<storage, read> absorb: array<f32>;
@group(0) @binding(5) var<storage, read> cell_excitons: array<f32>;
@group(0) @binding(6) var packets_in: texture_2d<u32>;

// Packet i as the host wrote it.
fn load_packet(i: u32) -> GpuPacket {
    let row = i32(i / PACKETS_PER_ROW);
    let column = i32(3u * (i % PACKETS_PER_ROW));
    let a = bitcast<vec4<f32>>(textureLoad(packets_in, vec2<i32>(column, row), 0));
    let b = bitcast<vec4<f32>>(textureLoad(packets_in, vec2<i32>(column + 1, row), 0));
    let c = textureLoad(packets_in, vec2<i32>(column + 2, row), 0);
    return GpuPacket(
        array<f32, 3>(a.x, a.y, a.z),
        array<f32, 3>(a.w, b.x, b.y),
        b.z,
        b.w,
        bitcast<f32>(c.x),
        c.y,
        c.z,
        c.w,
    );
}

// Write packet i back as a MovedPacket.
fn store_moved(i: u32, m: MovedPacket) {
    packets[3u * i] = bitcast<vec4<u32>>(vec4<f32>(m.pos[0], m.pos[1], m.pos[2], m.dir[0]));
    packets[3u * i + 1u] = bitcast<vec4<u32>>(vec4<f32>(m.dir[1], m.dir[2], m.weight, m.time_ps));
    packets[3u * i + 2u] = vec4<u32>(bitcast<u32>(m.background), bitcast<u32>(m.roulette_net), m.segments, m.state);
}

// Entry k of packet i.
fn store_entry(i: u32, k: u32, e: Entry) {
    entries[i * ENTRIES + k] = vec4<u32>(e.cell, bitcast<u32>(e.stimulated), bitcast<u32>(e.absorbed), e._pad0);
}


// (e^x − 1)/x, without the cancellation of single precision at small x.
fn expm1_over_x(x: f32) -> f32 {
    if (abs(x) < 1e-3) {
        return 1.0 + x * (0.5 + x / 6.0);
    }
    return (exp(x) - 1.0) / x;
}

// The cell coordinate along one axis of position v in a grid of n cells of size d
// starting at `lo` (CellGrid::coords).
fn coord(v: f32, lo: f32, d: f32, n: u32) -> u32 {
    return min(u32(max(floor((v - lo) / d), 0.0)), n - 1u);
}

@compute @workgroup_size(64)
fn ase_transport(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = gid.x + gid.y * groups.x * 64u;
    if (index < p.count) {
        move_packet(index);
    }
}

// The packet's exchange entries, in the order it met the cells: entry k's cell,
// stimulated and absorbed photons are component k % 4 of the first (k < 4) or second
// vec4. Registers picked by comparison, not arrays: lavapipe moves a dynamically
// indexed array's element one SIMD lane at a time through memory.
var<private> e_cell: array<vec4<u32>, 2>;
var<private> e_stim: array<vec4<f32>, 2>;
var<private> e_abs: array<vec4<f32>, 2>;

// Component k (0–3) of v (`word` of shared/philox.wgsl picks a vec4<u32>'s).
fn pick_f(v: vec4<f32>, k: u32) -> f32 {
    return select(select(v.w, v.z, k == 2u), select(v.y, v.x, k == 0u), k < 2u);
}

// v with component k (0–3) set to x.
fn put_f(v: vec4<f32>, k: u32, x: f32) -> vec4<f32> {
    return select(v, vec4<f32>(x), vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(k));
}

fn entry_cell(k: u32) -> u32 {
    return select(word(e_cell[1], k - 4u), word(e_cell[0], k), k < 4u);
}

fn entry_stim(k: u32) -> f32 {
    return select(pick_f(e_stim[1], k - 4u), pick_f(e_stim[0], k), k < 4u);
}

fn entry_abs(k: u32) -> f32 {
    return select(pick_f(e_abs[1], k - 4u), pick_f(e_abs[0], k), k < 4u);
}

// Add photons to entry k (a new one is all zeros).
fn add_to_entry(k: u32, stimulated: f32, absorbed: f32) {
    let low = k < 4u;
    let j = select(k - 4u, k, low);
    let s = select(e_stim[1], e_stim[0], low);
    let a = select(e_abs[1], e_abs[0], low);
    let s_new = put_f(s, j, pick_f(s, j) + stimulated);
    let a_new = put_f(a, j, pick_f(a, j) + absorbed);
    e_stim[0] = select(e_stim[0], s_new, low);
    e_stim[1] = select(s_new, e_stim[1], low);
    e_abs[0] = select(e_abs[0], a_new, low);
    e_abs[1] = select(a_new, e_abs[1], low);
}

// Start entry k for cell c.
fn open_entry(k: u32, c: u32) {
    let lanes = vec4<u32>(0u, 1u, 2u, 3u);
    e_cell[0] = select(e_cell[0], vec4<u32>(c), lanes == vec4<u32>(k));
    e_cell[1] = select(e_cell[1], vec4<u32>(c), lanes + 4u == vec4<u32>(k));
}

// Move packet `index` through the step and write its state, what it did, and its
// entries.
fn move_packet(index: u32) {
    var pk = load_packet(index);
    var pos = vec3<f32>(pk.pos[0], pk.pos[1], pk.pos[2]);
    var dir = vec3<f32>(pk.dir[0], pk.dir[1], pk.dir[2]);
    ahead_start(vec2<u32>(p.seed_lo, p.seed_hi), PURPOSE_PHOTON, p.point, p.step, pk.id);
    var rec = StepRecord(0.0, 0.0, 0u, ALIVE, 0u);
    let cell_size = vec3<f32>(p.cell_x, p.cell_y, p.cell_z);
    let lo = vec3<f32>(p.cell_lo_x, p.cell_lo_y, p.cell_lo_z);
    let counts = vec3<u32>(p.nx, p.ny, p.nz);
    // The packet's cell, followed from plane to plane rather than found again from
    // its position (single precision cannot tell the side of a plane it sits on).
    var cell = vec3<u32>(0u);
    var in_cell = false;
    // The packet's exchange entries, in the order it met the cells.
    e_cell = array<vec4<u32>, 2>(vec4<u32>(0u), vec4<u32>(0u));
    e_stim = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
    e_abs = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
    var used = 0u;
    var tau = 0.0;
    for (var segment = 0u; segment < p.max_segments; segment++) {
        if (segment == p.passes) {
            rec.fate = OVERFLOW;
            break;
        }
        rec.segments += 1u;
        // A segment draws at most 4 numbers (depth, scattering, roulette).
        refill();
        let here = slab_layer(p.slab, pk.layer);
        if (SCATTERING && here.mu_s > 0.0 && tau <= 0.0) {
            tau = -log(take01());
        }
        let speed = SPEED_OF_LIGHT_CM_PER_PS / here.n;
        // The step's end, then the nearest face or film edge (shared/mover.wgsl; a
        // guided ray only folds between the faces), the planes between cells, and
        // scattering.
        let guided = pk.layer == FILM && p.nz == 1u && abs(dir.z) <= p.guide_cos;
        let budget = Ahead(max(p.t_end - pk.time_ps, 0.0) * speed, BUDGET, 0u, false);
        var ahead = nearest_plane(p.slab, pk.layer, here, pos, dir, guided, budget);
        if (pk.layer == FILM) {
            if (!in_cell) {
                cell = vec3<u32>(
                    coord(pos.x, lo.x, cell_size.x, p.nx),
                    coord(pos.y, lo.y, cell_size.y, p.ny),
                    coord(pos.z, lo.z, cell_size.z, p.nz),
                );
                in_cell = true;
            }
            // The planes between cells (the outermost are the film's faces and edges).
            for (var k = 0u; k < 3u; k++) {
                let u = dir[k];
                let corner = lo[k] + f32(cell[k]) * cell_size[k];
                var d = INFINITE;
                if (u > 0.0 && cell[k] + 1u < counts[k]) {
                    d = max((corner + cell_size[k] - pos[k]) / u, 0.0);
                } else if (u < 0.0 && cell[k] > 0u) {
                    d = max((corner - pos[k]) / u, 0.0);
                }
                if (d < ahead.s) {
                    ahead = Ahead(d, CELL_PLANE, k, u > 0.0);
                }
            }
        }
        if (SCATTERING && here.mu_s > 0.0 && tau / here.mu_s < ahead.s) {
            ahead = Ahead(tau / here.mu_s, SCATTER, 0u, false);
        }
        let s = ahead.s;

        // Move and age.
        let moved = advance(p.slab, pos, dir, s, guided);
        pos = moved.pos;
        dir = moved.dir;
        pk.time_ps += s / speed;
        if (here.mu_s > 0.0) {
            tau -= s * here.mu_s;
        }

        // Gain and loss along the segment.
        var g_s = 0.0;
        var g_a = 0.0;
        var c = 0u;
        if (pk.layer == FILM) {
            c = (cell.z * p.ny + cell.y) * p.nx + cell.x;
            if (p.coupled != 0u) {
                g_s = stim[c * p.bins + pk.bin];
                g_a = absorb[c * p.bins + pk.bin];
            }
        }
        let rate = g_s - g_a - here.mu_a;
        if (rate != 0.0 && s > 0.0) {
            let w0 = pk.weight;
            let integral = w0 * s * expm1_over_x(rate * s);
            var stimulated = g_s * integral;
            var absorbed = g_a * integral;
            var background = here.mu_a * integral;
            var slot = ENTRIES;
            if (pk.layer == FILM) {
                for (var k = 0u; k < ENTRIES; k++) {
                    if (k < used && entry_cell(k) == c) {
                        slot = k;
                    }
                }
                if (slot == ENTRIES) {
                    if (used == ENTRIES) {
                        rec.fate = OVERFLOW;
                        break;
                    }
                    slot = used;
                    open_entry(slot, c);
                    used += 1u;
                }
                // No packet takes more from a cell in one step than it holds.
                stimulated = min(stimulated, max(cell_excitons[c] - entry_stim(slot), 0.0));
            }
            // A packet whose gain was capped cannot lose more than it carries.
            let losses = absorbed + background;
            if (losses > w0 + stimulated) {
                let k = (w0 + stimulated) / losses;
                absorbed *= k;
                background *= k;
            }
            if (slot < ENTRIES) {
                add_to_entry(slot, stimulated, absorbed);
            }
            rec.background += background;
            pk.weight = max(w0 + stimulated - absorbed - background, 0.0);
        }

        if (ahead.event == BUDGET) {
            pk.time_ps = p.t_end;
            break;
        } else if (ahead.event == CELL_PLANE) {
            cell[ahead.axis] = select(cell[ahead.axis] - 1u, cell[ahead.axis] + 1u, ahead.plus);
        } else if (SCATTERING && ahead.event == SCATTER) {
            tau = 0.0;
            let cos_theta = hg_cos_theta(here.g, take01());
            dir = turn(dir, cos_theta, take01());
        } else {
            let met = meet_plane(p.slab, pk.layer, ahead, pos, dir);
            pk.layer = met.layer;
            pos = met.pos;
            dir = met.dir;
            if (met.outcome == ENTERED) {
                // Entering a layer: the film's cell is found from the position.
                in_cell = false;
            } else if (met.outcome != REFLECTED) {
                var exit = SURFACE;
                if (met.outcome == LEFT_BOTTOM) {
                    exit = SUBSTRATE_EXIT;
                } else if (met.outcome == LEFT_EDGE) {
                    let detected = ahead.axis == 0u && ahead.plus && met.cos_out >= p.detector_cos;
                    exit = select(OTHER_EDGES, DETECTOR, detected);
                }
                rec.fate = EXITED;
                rec.exit = exit;
                break;
            }
        }

        if (pk.weight < p.roulette_threshold * pk.birth_weight) {
            if (take01() < p.roulette_survival) {
                let gained = pk.weight * (1.0 / p.roulette_survival - 1.0);
                rec.roulette_net += gained;
                pk.weight += gained;
            } else {
                rec.roulette_net -= pk.weight;
                rec.fate = KILLED;
                break;
            }
        }
    }

    let state = pk.layer | (rec.fate << 8u) | (rec.exit << 16u) | (used << 24u);
    store_moved(index, MovedPacket(
        array<f32, 3>(pos.x, pos.y, pos.z),
        array<f32, 3>(dir.x, dir.y, dir.z),
        pk.weight,
        pk.time_ps,
        rec.background,
        rec.roulette_net,
        rec.segments,
        state,
    ));
    for (var k = 0u; k < used; k++) {
        store_entry(index, k, Entry(entry_cell(k), entry_stim(k), entry_abs(k), 0u));
    }
}
