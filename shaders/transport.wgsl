// The passive photon transport of src/transport/ (pencil or isotropic source in the
// layered slab); each invocation traces a fixed strided set of packets (see the entry
// point). Each packet writes its record —
// the weight it left in every channel, where and when it left, its step count — and
// the host adds the records in packet order, so a run is the same on every device
// and every batch split. Mirrors packet::trace; single precision throughout.
// The structs TransportParams, GpuSlab, GpuLayer and PhotonRecord are emitted from src/gpu/shared/structs.rs.

// Channels, as transport::tally::Channel.
const SPECULAR: u32 = 0u;
const TOP: u32 = 1u;
const BOTTOM: u32 = 2u;
const EDGE_X_MINUS: u32 = 3u;
const ABSORBED_FILM: u32 = 7u;
const ABSORBED_SUBSTRATE: u32 = 8u;
const ABSORBED_TOTAL: u32 = 9u;
const GUIDED: u32 = 10u;
const UNRESOLVED: u32 = 11u;
const NO_EXIT: u32 = 0xFFFFFFFFu;
// FILM, SUBSTRATE, PURPOSE_TRANSPORT, LOOP_PASSES and CHANNELS come from src/gpu/shared/constants.rs.

// Loop passes an invocation makes before it stops: lavapipe leaves every loop once an
// invocation's loops have counted 65535 (all its loops together; a pass of this loop
// counts about twice).
const PASSES: u32 = LOOP_PASSES;
// `exit_channel` of a packet the kernel stopped before finishing.
const UNFINISHED: u32 = 0xfffffffeu;

@group(0) @binding(0) var<uniform> p: TransportParams;
@group(0) @binding(1) var<storage, read_write> records: array<PhotonRecord>;

struct Packet {
    pos: vec3<f32>,
    dir: vec3<f32>,
    weight: f32,
    layer: u32,
    time_ps: f32,
}

// The packet's score, channels 0–3, 4–7 and 8–11, kept in vectors and added to
// without indexing so that it stays in registers.
var<private> score_a: vec4<f32>;
var<private> score_b: vec4<f32>;
var<private> score_c: vec4<f32>;

fn add(channel: u32, w: f32) {
    let c = vec4<u32>(channel);
    score_a += select(vec4<f32>(0.0), vec4<f32>(w), c == vec4<u32>(0u, 1u, 2u, 3u));
    score_b += select(vec4<f32>(0.0), vec4<f32>(w), c == vec4<u32>(4u, 5u, 6u, 7u));
    score_c += select(vec4<f32>(0.0), vec4<f32>(w), c == vec4<u32>(8u, 9u, 10u, 11u));
    if (channel == ABSORBED_FILM || channel == ABSORBED_SUBSTRATE) {
        score_c.y += w;
    }
}

fn score_array() -> array<f32, 12> {
    return array<f32, 12>(
        score_a.x, score_a.y, score_a.z, score_a.w,
        score_b.x, score_b.y, score_b.z, score_b.w,
        score_c.x, score_c.y, score_c.z, score_c.w,
    );
}

// 1 − e^(−x) without the cancellation of single precision at small x.
fn one_minus_exp(x: f32) -> f32 {
    if (x < 1e-3) {
        return x * (1.0 - x * (0.5 - x / 6.0));
    }
    return 1.0 - exp(-x);
}

// Where a trapped packet's weight ends (geometry::Stack::trapped_fate): 0 not trapped,
// 1 guided for good, 2 absorbed in the film, 3 absorbed in the substrate.
fn trapped_fate(layer: u32, dir: vec3<f32>) -> u32 {
    if (p.slab.finite_length != 0u || p.slab.finite_width != 0u) {
        // A film with edges: totally reflected at both faces and every finite edge.
        if (layer != FILM || p.slab.film.mu_s > 0.0) {
            return 0u;
        }
        var below = p.slab.n_below;
        if (p.slab.layers > 1u) {
            below = p.slab.substrate.n;
        }
        let n2 = p.slab.film.n * p.slab.film.n;
        let ux = dir.x * dir.x * n2;
        let uy = dir.y * dir.y * n2;
        let uz = dir.z * dir.z * n2;
        let z_trapped = ux + uy >= p.slab.n_cover * p.slab.n_cover && ux + uy >= below * below;
        let x_trapped = p.slab.finite_length == 0u || uy + uz >= p.slab.n_cover * p.slab.n_cover;
        let y_trapped = p.slab.finite_width == 0u || ux + uz >= p.slab.n_cover * p.slab.n_cover;
        if (!(z_trapped && x_trapped && y_trapped)) {
            return 0u;
        }
        if (p.slab.film.mu_a > 0.0) {
            return 2u;
        }
        return 1u;
    }
    // A laterally infinite stack: β = n·sin θ must reach both exit media.
    let here = slab_layer(p.slab, layer);
    let beta = here.n * sqrt(dir.x * dir.x + dir.y * dir.y);
    var lo = layer;
    if (lo == SUBSTRATE && p.slab.film.n > beta) {
        lo = FILM;
    }
    var hi = layer;
    if (hi == FILM && p.slab.layers > 1u && p.slab.substrate.n > beta) {
        hi = SUBSTRATE;
    }
    let last = p.slab.layers - 1u;
    if ((lo == FILM && beta < p.slab.n_cover) || (hi == last && beta < p.slab.n_below)) {
        return 0u;
    }
    var absorbing = 0u;
    var which = 0u;
    for (var i = lo; i <= hi; i++) {
        let l = slab_layer(p.slab, i);
        if (l.mu_s > 0.0) {
            return 0u;
        }
        if (l.mu_a > 0.0) {
            absorbing += 1u;
            which = i;
        }
    }
    if (absorbing == 0u) {
        return 1u;
    }
    if (absorbing == 1u) {
        return 2u + which;
    }
    return 0u;
}

fn settle_if_trapped(pk: Packet) -> bool {
    let fate = trapped_fate(pk.layer, pk.dir);
    if (fate == 1u) {
        add(GUIDED, pk.weight);
    } else if (fate == 2u) {
        add(ABSORBED_FILM, pk.weight);
    } else if (fate == 3u) {
        add(ABSORBED_SUBSTRATE, pk.weight);
    }
    return fate != 0u;
}

// Launch the current packet (source::Launcher::launch) from its stream read ahead,
// clearing the score.
fn launch() -> Packet {
    score_a = vec4<f32>(0.0);
    score_b = vec4<f32>(0.0);
    score_c = vec4<f32>(0.0);
    var pk: Packet;
    pk.layer = FILM;
    pk.time_ps = 0.0;
    if (p.isotropic == 0u) {
        let r = (p.slab.n_cover - p.slab.film.n) / (p.slab.n_cover + p.slab.film.n);
        add(SPECULAR, r * r);
        pk.pos = vec3<f32>(p.source_x, p.source_y, p.slab.film.z_top);
        pk.dir = vec3<f32>(0.0, 0.0, 1.0);
        pk.weight = 1.0 - r * r;
    } else {
        var z = p.slab.film.z_top + p.source_depth;
        if (p.fixed_depth == 0u) {
            z = p.slab.film.z_top + take01() * (p.slab.film.z_bottom - p.slab.film.z_top);
        }
        let cos_theta = 2.0 * take01() - 1.0;
        let sin_theta = sqrt(max(1.0 - cos_theta * cos_theta, 0.0));
        let phi = TWO_PI * take01();
        pk.pos = vec3<f32>(p.source_x, p.source_y, z);
        pk.dir = vec3<f32>(sin_theta * cos(phi), sin_theta * sin(phi), cos_theta);
        pk.weight = 1.0;
    }
    return pk;
}

// Start packet `index`'s stream (as stream_new).
fn ahead_reset(index: u32) {
    ahead_start(vec2<u32>(p.seed_lo, p.seed_hi), PURPOSE_TRANSPORT, p.point, 0u, p.first + index);
}

@compute @workgroup_size(64)
fn transport(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // This invocation traces packets gid, gid + stride, gid + 2·stride, … of the batch,
    // launching the next one in the same loop as soon as one ends, so the lanes of a
    // SIMD group stay busy however unequal the packets' lives are. Which packets an
    // invocation traces is fixed, and each result depends on its packet's stream only.
    let stride = groups.x * 64u;
    var index = gid.x;
    var have = false;
    var pk: Packet;
    // Kept in scalars while tracing (a struct holding an array would live in memory).
    var exit_channel = NO_EXIT;
    var exit_time_ps = 0.0;
    var exit_weight = 0.0;
    var steps = 0u;
    var tau = 0.0;
    // lavapipe leaves a loop after 65535 passes in an invocation, without a word: stop
    // before that, and leave this packet and the invocation's later ones unfinished.
    var passes = 0u;
    loop {
        passes += 1u;
        if (passes > PASSES) {
            break;
        }
        if (!have) {
            if (index >= p.count) {
                break;
            }
            ahead_reset(index);
        }
        // A launch and a step use at most 7 numbers; two refills keep at least 8 ahead.
        refill();
        refill();
        if (!have) {
            pk = launch();
            exit_channel = NO_EXIT;
            exit_time_ps = 0.0;
            exit_weight = 0.0;
            steps = 0u;
            tau = 0.0;
            if (settle_if_trapped(pk)) {
                records[index] = PhotonRecord(score_array(), NO_EXIT, 0.0, 0.0, 0u);
                index += stride;
                continue;
            }
            have = true;
        }
        // One interaction (packet::trace).
        var done = false;
        if (steps >= p.max_interactions) {
            add(UNRESOLVED, pk.weight);
            done = true;
        } else {
            steps += 1u;
            let here = slab_layer(p.slab, pk.layer);
            if (here.mu_s > 0.0 && tau <= 0.0) {
                tau = -log(take01());
            }
            // The nearest face or film edge (shared/mover.wgsl), then scattering.
            var ahead = nearest_plane(p.slab, pk.layer, here, pk.pos, pk.dir, false, Ahead(INFINITE, BUDGET, 0u, false));
            if (here.mu_s > 0.0 && tau / here.mu_s < ahead.s) {
                ahead = Ahead(tau / here.mu_s, SCATTER, 0u, false);
            }
            if (ahead.s >= INFINITE) {
                add(UNRESOLVED, pk.weight);
                done = true;
            } else {
                // Move, absorb, age.
                let s = ahead.s;
                let moved = advance(p.slab, pk.pos, pk.dir, s, false);
                pk.pos = moved.pos;
                pk.dir = moved.dir;
                if (here.mu_a > 0.0) {
                    let absorbed = pk.weight * one_minus_exp(here.mu_a * s);
                    add(select(ABSORBED_SUBSTRATE, ABSORBED_FILM, pk.layer == FILM), absorbed);
                    pk.weight -= absorbed;
                }
                if (here.mu_s > 0.0) {
                    tau -= s * here.mu_s;
                }
                pk.time_ps += s * here.n / SPEED_OF_LIGHT_CM_PER_PS;

                if (ahead.event == SCATTER) {
                    tau = 0.0;
                    let cos_theta = hg_cos_theta(here.g, take01());
                    pk.dir = turn(pk.dir, cos_theta, take01());
                } else {
                    let met = meet_plane(p.slab, pk.layer, ahead, pk.pos, pk.dir);
                    pk.layer = met.layer;
                    pk.pos = met.pos;
                    pk.dir = met.dir;
                    if (met.outcome >= LEFT_TOP) {
                        var exit = TOP;
                        if (met.outcome == LEFT_BOTTOM) {
                            exit = BOTTOM;
                        } else if (met.outcome == LEFT_EDGE) {
                            exit = EDGE_X_MINUS + 2u * ahead.axis + select(0u, 1u, ahead.plus);
                        }
                        add(exit, pk.weight);
                        exit_channel = exit;
                        exit_time_ps = pk.time_ps;
                        exit_weight = pk.weight;
                        done = true;
                    }
                }

                if (!done && pk.weight < p.roulette_threshold) {
                    if (take01() < p.roulette_survival) {
                        pk.weight /= p.roulette_survival;
                    } else {
                        done = true;
                    }
                }
            }
        }
        if (done) {
            records[index] = PhotonRecord(score_array(), exit_channel, exit_time_ps, exit_weight, steps);
            index += stride;
            have = false;
        }
    }
    // The packets left unfinished, for the host to trace (at most 64 of them).
    for (var i = index; i < p.count; i += stride) {
        records[i] = PhotonRecord(array<f32, 12>(), UNFINISHED, 0.0, 0.0, 0u);
    }
}
