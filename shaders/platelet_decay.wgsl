// The loss events of the sampled platelets within a time step (src/ase/platelets.rs,
// loss_events): non-radiative and Auger decay as exact continuous-time events. Every
// platelet whose next event falls before the step's end draws on its own stream
// (Decay, point, step, its index in the film), choosing the kind of event and the time
// of the next as the host does, so the two agree platelet by platelet except where
// single precision tips a comparison. One workgroup per listed cell (the host lists
// the cells whose earliest next event falls within the step); it then sums what the
// cell holds and did, for the host's ledger and the next step's list.
//
// Times are in ps, in single precision; a platelet that cannot decay (no excitons, or
// no loss channel) has an infinite next event time.
//
// lavapipe runs an invocation's loops at most 65535 times in all, and then leaves
// them without a word. Each invocation therefore counts its loop
// passes (platelets and events) and stops before that many, its platelet's state
// written back; the cell then says it stopped (CellDecay.stopped) and the host
// dispatches it again (DecayParams.part), on later blocks of the platelets' streams,
// until every event is done.
// The structs DecayParams and CellDecay are emitted from src/gpu/shared/structs.rs.

// The Auger rate's scaling with n, fixed when the pipeline is built: cubic, else
// bimolecular (loss_rates in shared/kinetics.wgsl).
override CUBIC: bool = false;
// From src/gpu/shared/constants.rs: PURPOSE_DECAY (Purpose::Decay of src/rng.rs), WORKGROUP,
// LOOP_PASSES and PART_BLOCKS (blocks of a platelet's stream each dispatch of a cell
// starts after).
// Loop passes an invocation makes before it stops: lavapipe leaves every loop once an
// invocation's loops have counted 65535 (all its loops together; a pass can count
// twice). Lower in the tests of stopping.
override PASSES: u32 = LOOP_PASSES;

@group(0) @binding(0) var<uniform> p: DecayParams;
// Every platelet's exciton count and next loss event time (ps), cell by cell.
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> next: array<f32>;
// The cells of this dispatch, a workgroup each.
@group(0) @binding(3) var<storage, read> cells: array<u32>;
// One for each cell of this dispatch, in the order listed.
@group(0) @binding(4) var<storage, read_write> decayed: array<CellDecay>;

var<workgroup> sum_excitons: atomic<u32>;
var<workgroup> sum_room: atomic<u32>;
// The bits of a non-negative f32 order as the numbers do.
var<workgroup> earliest_bits: atomic<u32>;
var<workgroup> sum_nonradiative: atomic<u32>;
var<workgroup> sum_auger: atomic<u32>;
var<workgroup> halted: atomic<u32>;

fn infinity() -> f32 {
    return bitcast<f32>(0x7f800000u);
}

fn rates(n: u32) -> vec2<f32> {
    return loss_rates(n, p.k_nonrad, p.k_xx, CUBIC);
}

@compute @workgroup_size(64)
fn platelet_decay(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let k = wid.x + wid.y * groups.x;
    if (k >= p.count) {
        return;
    }
    if (lane == 0u) {
        atomicStore(&sum_excitons, 0u);
        atomicStore(&sum_room, 0u);
        atomicStore(&earliest_bits, bitcast<u32>(infinity()));
        atomicStore(&sum_nonradiative, 0u);
        atomicStore(&sum_auger, 0u);
        atomicStore(&halted, 0u);
    }
    workgroupBarrier();

    let first = cells[k] * p.samples;
    let seed = vec2<u32>(p.seed_lo, p.seed_hi);
    var excitons = 0u;
    var room = 0u;
    var earliest = infinity();
    var nonradiative = 0u;
    var auger = 0u;
    var passes = 0u;
    for (var j = lane; j < p.samples; j += WORKGROUP) {
        if (passes >= PASSES) {
            atomicStore(&halted, 1u);
            break;
        }
        passes += 1u;
        let i = first + j;
        var n = counts[i];
        var t = next[i];
        if (t < p.t1) {
            var s = stream_new(seed, PURPOSE_DECAY, p.point, p.step, i);
            s.counter.x = p.part * PART_BLOCKS;
            while (t < p.t1 && passes < PASSES) {
                passes += 1u;
                let r = rates(n);
                if (uniform01(&s) * r.x < r.y) {
                    nonradiative += 1u;
                } else {
                    auger += 1u;
                }
                n -= 1u;
                let rate = rates(n).x;
                if (rate > 0.0) {
                    t = t - log(uniform01(&s)) / rate;
                } else {
                    t = infinity();
                }
            }
            counts[i] = n;
            next[i] = t;
            if (t < p.t1) {
                // Stopped within this platelet's events.
                atomicStore(&halted, 1u);
            }
        }
        excitons += n;
        room += select(0u, p.degeneracy - n, n < p.degeneracy);
        earliest = min(earliest, t);
    }
    atomicAdd(&sum_excitons, excitons);
    atomicAdd(&sum_room, room);
    atomicMin(&earliest_bits, bitcast<u32>(earliest));
    atomicAdd(&sum_nonradiative, nonradiative);
    atomicAdd(&sum_auger, auger);
    workgroupBarrier();
    if (lane == 0u) {
        decayed[k] = CellDecay(
            atomicLoad(&sum_excitons),
            atomicLoad(&sum_room),
            bitcast<f32>(atomicLoad(&earliest_bits)),
            atomicLoad(&sum_nonradiative),
            atomicLoad(&sum_auger),
            atomicLoad(&halted),
            0u,
            0u,
        );
    }
}
