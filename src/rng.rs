//! Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random
//! numbers: as easy as 1, 2, 3", SC'11), the generator of Random123 and cuRAND.
//!
//! A stream is fully determined by its key and counter, so every photon packet (and
//! later every platelet and time step) gets its own independent stream from
//! (seed, sweep point, step, entity index), with no state shared between threads.
//! Results therefore do not depend on thread count, work split, shard or device.
//! The same generator is written in WGSL for the GPU backend; only 32-bit integer
//! arithmetic is used so the two agree bit for bit.

/// Philox multiplier for counter word 0 (Random123 `PHILOX_M4x32_0`).
const PHILOX_M0: u32 = 0xD251_1F53;
/// Philox multiplier for counter word 2 (Random123 `PHILOX_M4x32_1`).
const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Key schedule increment, golden ratio (Random123 `PHILOX_W32_0`).
const PHILOX_W0: u32 = 0x9E37_79B9;
/// Key schedule increment, √3 − 1 (Random123 `PHILOX_W32_1`).
const PHILOX_W1: u32 = 0xBB67_AE85;
/// Number of rounds; 10 is the Crush-resistant choice of the Random123 authors.
const PHILOX_ROUNDS: usize = 10;

/// What a stream is used for. Mixed into the counter so that, for instance, the
/// pencil-source photons and the (later) platelet decays of the same index never
/// share numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Purpose {
    /// Photon packets of the passive transport (pencil or isotropic source).
    Transport = 1,
    /// Sampling the platelets and their initial excitation.
    Platelets = 2,
    /// Spontaneous decay of a platelet within a time step.
    Decay = 3,
    /// An ASE photon packet within a time step.
    Photon = 4,
    /// Booking a cell's photon exchange against its platelets.
    Exchange = 5,
    /// A cell's spontaneous emission within a time step.
    Spontaneous = 6,
    /// Resampling in the analysis of a run (bootstrap).
    Analysis = 7,
    /// Booking a cell's radiative decay against its platelets.
    Radiative = 8,
}

/// The seed of replica `replica` of a run seeded `seed`: the seed itself for replica
/// 0 (a one-replica run is the run it always was), else a SplitMix64 mix of the two
/// (Steele, Lea & Flood, OOPSLA 2014), so that every replica's streams have a key of
/// their own and neighbouring replicas' keys share no structure.
pub fn replica_seed(seed: u64, replica: u32) -> u64 {
    if replica == 0 {
        return seed;
    }
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    mix(seed ^ mix(u64::from(replica).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Bits of counter word 2 that hold the step index; the purpose sits above them.
const STEP_BITS: u32 = 28;

/// One Philox4x32-10 block: four 32-bit outputs for a 128-bit counter and 64-bit key.
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let p0 = u64::from(PHILOX_M0) * u64::from(c[0]);
        let p1 = u64::from(PHILOX_M1) * u64::from(c[2]);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// A stream of uniform numbers for one entity: counter words are
/// `[block, entity, purpose << 28 | step, point]`, the key is the 64-bit seed.
#[derive(Clone, Debug)]
pub struct Stream {
    key: [u32; 2],
    counter: [u32; 4],
    block: [u32; 4],
    used: usize,
}

impl Stream {
    /// The stream of `entity` at time step `step` of sweep point `point`.
    pub fn new(seed: u64, purpose: Purpose, point: u32, step: u32, entity: u32) -> Self {
        // A larger step would run into the purpose's bits and share another stream.
        assert!(
            step < (1 << STEP_BITS),
            "step {step} beyond the stream key's range"
        );
        Self {
            key: [seed as u32, (seed >> 32) as u32],
            counter: [0, entity, ((purpose as u32) << STEP_BITS) | step, point],
            block: [0; 4],
            used: 4,
        }
    }

    /// The next raw 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.used == 4 {
            self.block = philox4x32(self.counter, self.key);
            self.counter[0] = self.counter[0].wrapping_add(1);
            self.used = 0;
        }
        let x = self.block[self.used];
        self.used += 1;
        x
    }

    /// A uniform number in the open interval (0, 1): safe for `ln`.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (f64::from(self.next_u32()) + 0.5) * (1.0 / 4_294_967_296.0)
    }
}
