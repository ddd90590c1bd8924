// The passive photon transport of src/transport/ (pencil or isotropic source in the
// layered slab); each invocation traces a fixed strided set of packets (see the entry
// point). Each packet writes its record —
// the weight it left in every channel, where and when it left, its step count — and
// the host adds the records in packet order, so a run is the same on every device
// and every batch split. Mirrors packet::trace; single precision throughout.
// The structs TransportParams, GpuLayer and PhotonRecord are emitted from src/gpu/shared/structs.rs.

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

fn layer_of(i: u32) -> GpuLayer {
    if (i == FILM) {
        return p.film;
    }
    return p.substrate;
}

fn over_film(x: f32, y: f32) -> bool {
    return (p.finite_length == 0u || abs(x) <= p.half_length)
        && (p.finite_width == 0u || abs(y) <= p.half_width);
}

// Path length to the film edge ahead along one lateral axis (interfaces::nearest_edge);
// "infinite" when the film has no edges on it or the packet runs parallel to them.
fn edge_distance(finite: u32, coord: f32, u: f32, half: f32) -> f32 {
    if (finite == 0u || u == 0.0) {
        return 3.0e38;
    }
    return max((select(-half, half, u > 0.0) - coord) / u, 0.0);
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
    if (p.finite_length != 0u || p.finite_width != 0u) {
        // A film with edges: totally reflected at both faces and every finite edge.
        if (layer != FILM || p.film.mu_s > 0.0) {
            return 0u;
        }
        var below = p.n_below;
        if (p.layers > 1u) {
            below = p.substrate.n;
        }
        let n2 = p.film.n * p.film.n;
        let ux = dir.x * dir.x * n2;
        let uy = dir.y * dir.y * n2;
        let uz = dir.z * dir.z * n2;
        let z_trapped = ux + uy >= p.n_cover * p.n_cover && ux + uy >= below * below;
        let x_trapped = p.finite_length == 0u || uy + uz >= p.n_cover * p.n_cover;
        let y_trapped = p.finite_width == 0u || ux + uz >= p.n_cover * p.n_cover;
        if (!(z_trapped && x_trapped && y_trapped)) {
            return 0u;
        }
        if (p.film.mu_a > 0.0) {
            return 2u;
        }
        return 1u;
    }
    // A laterally infinite stack: β = n·sin θ must reach both exit media.
    let here = layer_of(layer);
    let beta = here.n * sqrt(dir.x * dir.x + dir.y * dir.y);
    var lo = layer;
    if (lo == SUBSTRATE && p.film.n > beta) {
        lo = FILM;
    }
    var hi = layer;
    if (hi == FILM && p.layers > 1u && p.substrate.n > beta) {
        hi = SUBSTRATE;
    }
    let last = p.layers - 1u;
    if ((lo == FILM && beta < p.n_cover) || (hi == last && beta < p.n_below)) {
        return 0u;
    }
    var absorbing = 0u;
    var which = 0u;
    for (var i = lo; i <= hi; i++) {
        let l = layer_of(i);
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
        let r = (p.n_cover - p.film.n) / (p.n_cover + p.film.n);
        add(SPECULAR, r * r);
        pk.pos = vec3<f32>(p.source_x, p.source_y, p.film.z_top);
        pk.dir = vec3<f32>(0.0, 0.0, 1.0);
        pk.weight = 1.0 - r * r;
    } else {
        var z = p.film.z_top + p.source_depth;
        if (p.fixed_depth == 0u) {
            z = p.film.z_top + take01() * (p.film.z_bottom - p.film.z_top);
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
            let here = layer_of(pk.layer);
            if (here.mu_s > 0.0 && tau <= 0.0) {
                tau = -log(take01());
            }
            // The nearest plane: the layer's faces, and for the film its edges.
            var s = 3.0e38;
            var event = 0u; // 0 scatter, 1 face, 2 edge
            let down = pk.dir.z > 0.0;
            if (pk.dir.z > 0.0) {
                s = max((here.z_bottom - pk.pos.z) / pk.dir.z, 0.0);
                event = 1u;
            } else if (pk.dir.z < 0.0) {
                s = max((here.z_top - pk.pos.z) / pk.dir.z, 0.0);
                event = 1u;
            }
            var edge_axis = 0u;
            var edge_plus = false;
            if (pk.layer == FILM) {
                let dx = edge_distance(p.finite_length, pk.pos.x, pk.dir.x, p.half_length);
                if (dx < s) {
                    s = dx;
                    event = 2u;
                    edge_axis = 0u;
                    edge_plus = pk.dir.x > 0.0;
                }
                let dy = edge_distance(p.finite_width, pk.pos.y, pk.dir.y, p.half_width);
                if (dy < s) {
                    s = dy;
                    event = 2u;
                    edge_axis = 1u;
                    edge_plus = pk.dir.y > 0.0;
                }
            }
            if (here.mu_s > 0.0) {
                let s_scatter = tau / here.mu_s;
                if (s_scatter < s) {
                    s = s_scatter;
                    event = 0u;
                }
            }
            if (s >= 3.0e38) {
                add(UNRESOLVED, pk.weight);
                done = true;
            } else {
                // Move, absorb, age.
                pk.pos = pk.pos + s * pk.dir;
                if (here.mu_a > 0.0) {
                    let absorbed = pk.weight * one_minus_exp(here.mu_a * s);
                    add(select(ABSORBED_SUBSTRATE, ABSORBED_FILM, pk.layer == FILM), absorbed);
                    pk.weight -= absorbed;
                }
                if (here.mu_s > 0.0) {
                    tau -= s * here.mu_s;
                }
                pk.time_ps += s * here.n / SPEED_OF_LIGHT_CM_PER_PS;

                if (event == 0u) {
                    tau = 0.0;
                    let cos_theta = hg_cos_theta(here.g, take01());
                    pk.dir = turn(pk.dir, cos_theta, take01());
                } else {
                    // A face (interfaces::meet_face) or a film edge (meet_edge), in one
                    // branch so that SIMD lanes at either run the Fresnel step once.
                    var n2 = p.n_cover;
                    var cos_i = 0.0;
                    var next = NO_EXIT;
                    var exit = TOP;
                    if (event == 1u) {
                        pk.pos.z = select(here.z_top, here.z_bottom, down);
                        cos_i = abs(pk.dir.z);
                        if (pk.layer == FILM && down && p.layers > 1u) {
                            n2 = p.substrate.n;
                            next = SUBSTRATE;
                        } else if (down) {
                            n2 = p.n_below;
                            exit = BOTTOM;
                        } else if (pk.layer != FILM && over_film(pk.pos.x, pk.pos.y)) {
                            n2 = p.film.n;
                            next = FILM;
                        }
                    } else {
                        let half = select(p.half_width, p.half_length, edge_axis == 0u);
                        if (edge_axis == 0u) {
                            pk.pos.x = select(-half, half, edge_plus);
                            cos_i = abs(pk.dir.x);
                        } else {
                            pk.pos.y = select(-half, half, edge_plus);
                            cos_i = abs(pk.dir.y);
                        }
                        exit = EDGE_X_MINUS + 2u * edge_axis + select(0u, 1u, edge_plus);
                    }
                    let crossing = fresnel(here.n, n2, cos_i);
                    if (crossing.y >= 0.0 && take01() >= crossing.x) {
                        if (next == NO_EXIT) {
                            add(exit, pk.weight);
                            exit_channel = exit;
                            exit_time_ps = pk.time_ps;
                            exit_weight = pk.weight;
                            done = true;
                        } else {
                            let ratio = here.n / n2;
                            pk.dir = vec3<f32>(pk.dir.x * ratio, pk.dir.y * ratio, crossing.y * sign(pk.dir.z));
                            pk.layer = next;
                        }
                    } else if (event == 1u) {
                        pk.dir.z = -pk.dir.z;
                    } else if (edge_axis == 0u) {
                        pk.dir.x = -pk.dir.x;
                    } else {
                        pk.dir.y = -pk.dir.y;
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
