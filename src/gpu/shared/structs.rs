//! The structs the WGSL kernels share with Rust, defined once: each is a `#[repr(C)]`
//! Pod struct here, and [`wgsl`] emits it as a WGSL `struct` of the same name, fields
//! and documentation, declared before every kernel. The list [`STRUCTS`] is what the
//! layout test walks: every struct's size and field offsets as naga lays out the
//! emitted WGSL must be Rust's. A field's WGSL type follows from its Rust type (`u32`,
//! `f32`, `[T; N]` as `array<T, N>`, a shared struct by its name) unless the field
//! names another (`as "vec4<f32>"`). Padding is an explicit field.

use super::constants::CHANNELS;

/// How WGSL spells a Rust type of a shared struct's field.
pub trait WgslType {
    fn wgsl() -> String;
}

impl WgslType for u32 {
    fn wgsl() -> String {
        "u32".into()
    }
}

impl WgslType for f32 {
    fn wgsl() -> String {
        "f32".into()
    }
}

impl<T: WgslType, const N: usize> WgslType for [T; N] {
    fn wgsl() -> String {
        format!("array<{}, {N}>", T::wgsl())
    }
}

/// A shared struct as the layout test and the emitter see it: its name, its size in
/// bytes, and each field's name, offset, WGSL type and documentation.
pub struct SharedStruct {
    pub name: &'static str,
    pub doc: &'static [&'static str],
    pub size: usize,
    pub fields: Vec<SharedField>,
}

/// A field of a [`SharedStruct`].
pub struct SharedField {
    pub name: &'static str,
    pub offset: usize,
    pub wgsl: String,
    pub doc: &'static [&'static str],
}

/// Declares the shared structs, each a `#[repr(C)]` Pod struct with public fields, and
/// [`STRUCTS`], their list.
macro_rules! shared_structs {
    ($(
        $(#[doc = $doc:literal])*
        struct $name:ident {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty $(as $wty:literal)?
            ),* $(,)?
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[repr(C)]
            #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
            pub struct $name {
                $( $(#[doc = $fdoc])* pub $field: $ty, )*
            }

            impl WgslType for $name {
                fn wgsl() -> String {
                    stringify!($name).into()
                }
            }
        )*

        /// Every shared struct, in the order they are emitted.
        pub fn structs() -> Vec<SharedStruct> {
            vec![$(
                SharedStruct {
                    name: stringify!($name),
                    doc: &[$($doc),*],
                    size: std::mem::size_of::<$name>(),
                    fields: vec![$(
                        SharedField {
                            name: stringify!($field),
                            offset: std::mem::offset_of!($name, $field),
                            wgsl: wgsl_type::<$ty>(&[$($wty)?]),
                            doc: &[$($fdoc),*],
                        }
                    ),*],
                }
            ),*]
        }
    };
}

/// The WGSL type of a field of Rust type `T`, or the one its declaration names.
fn wgsl_type<T: WgslType>(named: &[&str]) -> String {
    named.first().map_or_else(T::wgsl, |w| (*w).to_string())
}

shared_structs! {
    /// A layer of the stack as the kernels see it (`transport::geometry::Layer`); z
    /// grows downwards from the film's top, cm; n; μ_a and μ_s, cm⁻¹; g.
    struct GpuLayer {
        z_top: f32,
        z_bottom: f32,
        n: f32,
        mu_a: f32,
        mu_s: f32,
        g: f32,
        _pad0: f32,
        _pad1: f32,
    }

    /// The stack as the mover's core sees it (`shared/mover.wgsl`, geometry::Stack): its
    /// layers, the media above and below, and the film's half sizes along x and y
    /// with whether it ends there (0: laterally infinite along that axis).
    struct GpuSlab {
        film: GpuLayer,
        substrate: GpuLayer,
        layers: u32,
        n_cover: f32,
        n_below: f32,
        half_length: f32,
        half_width: f32,
        finite_length: u32,
        finite_width: u32,
        _pad0: u32,
    }

    /// One batch of the passive transport (`transport.wgsl`).
    struct TransportParams {
        slab: GpuSlab,
        isotropic: u32,
        fixed_depth: u32,
        point: u32,
        source_x: f32,
        source_y: f32,
        source_depth: f32,
        roulette_threshold: f32,
        roulette_survival: f32,
        max_interactions: u32,
        seed_lo: u32,
        seed_hi: u32,
        first: u32,
        count: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }

    /// One passive packet's outcome (`transport.wgsl`): its score in each channel, and
    /// where, when and with what weight it left.
    struct PhotonRecord {
        score: [f32; CHANNELS as usize],
        exit_channel: u32,
        exit_time_ps: f32,
        exit_weight: f32,
        steps: u32,
    }

    /// One step of the ASE transport (`ase_transport.wgsl`).
    struct AseParams {
        slab: GpuSlab,
        coupled: u32,
        nx: u32,
        ny: u32,
        nz: u32,
        bins: u32,
        count: u32,
        point: u32,
        step: u32,
        seed_lo: u32,
        seed_hi: u32,
        max_segments: u32,
        cell_x: f32,
        cell_y: f32,
        cell_z: f32,
        t_end: f32,
        detector_cos: f32,
        roulette_threshold: f32,
        roulette_survival: f32,
        /// The lower corner of cell (0, 0, 0), cm.
        cell_lo_x: f32,
        cell_lo_y: f32,
        cell_lo_z: f32,
        /// A film ray with |u_z| at most this is totally reflected at both faces
        /// (Stack::film_guides; −1: never).
        guide_cos: f32,
        /// Segments a packet may take in the step before it is left to the host:
        /// lavapipe runs an invocation's loops 65535 times in all and then leaves them
        /// without a word (a segment can count twice); no limit on a hardware GPU.
        passes: u32,
        _pad0: u32,
    }

    /// An ASE packet (`photons::AsePacket`) with its time counted from the step's start
    /// (`ase_transport.wgsl`).
    struct GpuPacket {
        pos: [f32; 3],
        dir: [f32; 3],
        weight: f32,
        birth_weight: f32,
        time_ps: f32,
        bin: u32,
        layer: u32,
        id: u32,
    }

    /// A packet after the step, written over its GpuPacket (the id, bin and birth weight
    /// do not change): where it is, and what it did. The photons it exchanged with the
    /// film are in its entries.
    struct MovedPacket {
        pos: [f32; 3],
        dir: [f32; 3],
        weight: f32,
        time_ps: f32,
        background: f32,
        roulette_net: f32,
        segments: u32,
        /// Layer (bits 0–7), fate (8–15), exit (16–23), exchange entries (24–31).
        state: u32,
    }

    /// Photons one packet exchanged with one cell (the cell's index; its bin is the
    /// packet's).
    struct Entry {
        cell: u32,
        stimulated: f32,
        absorbed: f32,
        _pad0: u32,
    }

    /// One dispatch of the cells' gain spectra (`cell_gain.wgsl`).
    struct GainParams {
        /// The first cell of this dispatch (its changes are the first of the texture),
        /// and how many cells it has (listed in `cells`).
        first_cell: u32,
        count: u32,
        bins: u32,
        degeneracy: u32,
        /// 1: start from zero spectra (recomputing), 0: add to them.
        from_zero: u32,
        /// Sampled platelets a cell (FROM_DEVICE).
        samples: u32,
        _pad1: u32,
        _pad2: u32,
        inv_hwhm: f32,
        biexciton_shift_ev: f32,
        /// ρσ₀/N_cell, cm⁻¹: one sampled platelet's share of its cell's gain per unit
        /// σ/σ₀.
        scale: f32,
        _pad3: f32,
    }

    /// A platelet at transition energy `energy` (offset from the mean, eV) whose count
    /// went from `counts & 0xffff` to `counts >> 16` during the step (each at most
    /// max(g_d, 2): setup::Optics::line_count).
    struct CountChange {
        energy: f32,
        counts: u32,
    }

    /// One dispatch of the platelets' loss events (`platelet_decay.wgsl`).
    struct DecayParams {
        seed_lo: u32,
        seed_hi: u32,
        point: u32,
        step: u32,
        /// Sampled platelets a cell.
        samples: u32,
        degeneracy: u32,
        /// Cells in this dispatch (listed in `cells`).
        count: u32,
        /// Which dispatch of the step's loss events this is (0 first).
        part: u32,
        /// End of the step, ps.
        t1: f32,
        /// ps⁻¹.
        k_nonrad: f32,
        k_xx: f32,
        _pad1: f32,
    }

    /// What a listed cell's platelets hold after a step and what they did in it.
    struct CellDecay {
        /// Sampled excitons held, and room for more: Σ max(0, g_d − n).
        excitons: u32,
        room: u32,
        /// The earliest next loss event of the cell's platelets, ps.
        next: f32,
        nonradiative: u32,
        auger: u32,
        /// 1 when an invocation stopped before the step's end (the sums are then
        /// partial, the events so far done).
        stopped: u32,
        _pad0: u32,
        _pad1: u32,
    }

    /// One dispatch of the exchange's booking (`platelet_booking.wgsl`).
    struct BookingParams {
        seed_lo: u32,
        seed_hi: u32,
        point: u32,
        step: u32,
        samples: u32,
        degeneracy: u32,
        /// Cells in this dispatch (listed in `cells`).
        count: u32,
        /// Purpose of the random streams (src/rng.rs): Exchange or Radiative.
        purpose: u32,
        /// The booking time, ps.
        t_now: f32,
        k_nonrad: f32,
        k_xx: f32,
        inv_hwhm: f32,
        biexciton_shift_ev: f32,
        /// Which dispatch of the same booking this is (0 first): its stream blocks
        /// follow the earlier ones'.
        part: u32,
        _pad0: u32,
        _pad1: u32,
    }

    /// Move `count` sampled excitons of kind `kind` (ORDER_*), for photons at `energy`
    /// (offset from the mean transition energy, eV; unused for radiative decay).
    struct GpuOrder {
        energy: f32,
        kind: u32,
        count: u32,
        _pad0: u32,
    }

    /// What a listed cell holds after its orders (as in CellDecay), how many excitons
    /// they moved, and where the workgroup stopped: 0 when it booked every order, else
    /// 1 + the index (within the cell's) of the order it stopped in; that order's
    /// unbooked excitons are then what it had still to move, and the orders after it
    /// were not begun.
    struct CellBooked {
        excitons: u32,
        room: u32,
        next: f32,
        moved: u32,
        stopped: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }

    /// One dispatch of the spontaneous emission's packets (`spontaneous_emission.wgsl`).
    struct LaunchParams {
        seed_lo: u32,
        seed_hi: u32,
        point: u32,
        step: u32,
        /// Sampled platelets a cell.
        samples: u32,
        /// Entries of this dispatch (listed in `entries`).
        count: u32,
        bins: u32,
        /// 1: one packet in the cones of cos `cone_cos` around ±x and one in the rest
        /// of the sphere (run.axial_cone_deg); 0: one isotropic packet.
        cone: u32,
        cone_cos: f32,
        hwhm_ev: f32,
        biexciton_shift_ev: f32,
        /// The mean transition energy (platelet energies are offsets from it), eV.
        mean_ev: f32,
        /// The spectral window's short edge and its bins' width, nm.
        min_nm: f32,
        bin_nm: f32,
        _pad0: u32,
        _pad1: u32,
    }

    /// Up to 64 packets of one cell: packets k0 .. k0 + packets − 1 of its step's,
    /// written from `out` on; the cell's platelets hold `excitons` sampled excitons.
    struct LaunchEntry {
        cell: u32,
        k0: u32,
        packets: u32,
        excitons: u32,
        out: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }

    /// A packet drawn: its platelet's index in the film and its bin (NOTHING: none),
    /// the fraction of the step at which it starts, and its direction, or with cones
    /// the direction of the packet in the cones around ±x (dir_a) and of the one in
    /// the rest (dir_b).
    struct Launched {
        platelet: u32,
        bin: u32,
        time: f32,
        _pad0: u32,
        dir_a: [f32; 4] as "vec4<f32>",
        dir_b: [f32; 4] as "vec4<f32>",
    }

    /// The first numbers of several Philox streams (`rng_check.wgsl`): the seed, the
    /// streams' purpose, point and step, how many streams and numbers a stream.
    struct RngCheck {
        seed: [u32; 2] as "vec2<u32>",
        purpose: u32,
        point: u32,
        step: u32,
        streams: u32,
        per_stream: u32,
        _pad: u32,
    }

    /// The bare random walk of the benchmarks (`random_walk.wgsl`): its seed, and the
    /// steps of each of an invocation's walkers.
    struct WalkParams {
        seed_lo: u32,
        seed_hi: u32,
        steps: u32,
        walkers: u32,
    }

    /// One dispatch of the tallies' sums (`tallies.wgsl`).
    struct TallyParams {
        count: u32,
        bins: u32,
        time_bins: u32,
        /// The step's start in time bins: its whole part and its fraction.
        start_bin: u32,
        start_fraction: f32,
        /// 1/(a time bin), 1/ps.
        per_time_bin: f32,
        /// Units of the fixed point a photon.
        scale: f32,
        _pad0: u32,
    }
}

/// The shared structs as WGSL declarations, each with its documentation as comments.
pub fn wgsl() -> String {
    let mut s =
        String::from("// The structs shared with Rust, emitted from src/gpu/shared/structs.rs.\n");
    for st in structs() {
        for line in st.doc {
            s.push_str(&format!("//{line}\n"));
        }
        s.push_str(&format!("struct {} {{\n", st.name));
        for f in &st.fields {
            for line in f.doc {
                s.push_str(&format!("    //{line}\n"));
            }
            s.push_str(&format!("    {}: {},\n", f.name, f.wgsl));
        }
        s.push_str("}\n");
    }
    s
}
