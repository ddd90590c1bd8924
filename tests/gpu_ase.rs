//! The ASE engine with its photon transport and cell gain spectra on the GPU
//! (lavapipe in CI), on the validation cases of the CPU engine: exciton kinetics,
//! energy balance from a tenth to a hundred times threshold, the onset of ASE, and the
//! small-signal VSL gain; the device's gain spectra against the host's; a scattering
//! film, and packets followed on the CPU where they meet more cells than the kernel
//! holds; same seed, same result; and agreement with the CPU backend within 3σ above
//! threshold, where the two runs' paths part. Skipped without an adapter unless
//! `ASEMC_REQUIRE_GPU` is set.

mod common;
use asemc::analysis::fit::fit_vsl;
use asemc::ase::books::Books;
use asemc::ase::kinetics::Loss;
use asemc::ase::photons::{AsePacket, Fate, StepView};
use asemc::ase::platelets::{Film, loss_events};
use asemc::ase::tally::Exit;
use asemc::ase::tally::{ExitTally, Ledger};
use asemc::ase::{self, AseOutput, AseSetup, Span};
use asemc::config::{Config, load};
use asemc::cpu::ase_transport::advance_all;
use asemc::cpu::spontaneous_emission::spontaneous_emission;
use asemc::gpu::Gpu;
use asemc::gpu::ase_transport::GpuTransport;
use asemc::gpu::gain::GpuGain;
use asemc::gpu::platelets::{GpuPlatelets, LOOP_PASSES, MAX_PLATELETS};
use asemc::gpu::stages::{self, GpuAse};
use asemc::spectral::peak_and_fwhm;
use common::{
    STEADY_FROM_PS, assert_within_sigma, configs_dir, configured_gain, gpu, mean_and_error,
    small_film, stripe_film,
};

/// Threshold fluence of the seed paper's medium-crown sample, µJ/cm².
const THRESHOLD_UJ_CM2: f64 = 2.7;

/// The stripe film of tests/ase.rs, run for `duration_ps` with seed `seed`.
fn stripe(fluence: f64, duration_ps: f64, seed: u64) -> Config {
    stripe_film(
        fluence,
        &[
            &format!("run.duration_ps={duration_ps}"),
            &format!("run.seed={seed}"),
        ],
    )
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A run on the GPU backend, as `run --backend gpu` makes it.
fn on_gpu(gpu: &Gpu, c: &Config, point: u32) -> AseOutput {
    let setup = AseSetup::from_config(c).unwrap();
    stages::run(gpu, &setup, point, &|_| {}).unwrap()
}

fn on_cpu(c: &Config, point: u32) -> AseOutput {
    let setup = AseSetup::from_config(c).unwrap();
    ase::run(&setup, point, &|_| {})
}

/// The largest difference between the device's spectra and the host's, as a fraction
/// of the largest host value.
fn largest_difference(device: &Film, host: &Film) -> f64 {
    let mut worst: f64 = 0.0;
    for (d, h) in [(&device.stim, &host.stim), (&device.abs, &host.abs)] {
        let top = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(top > 0.0);
        for (a, b) in d.iter().zip(h) {
            worst = worst.max((a - b).abs() / top);
        }
    }
    worst
}

/// The spectra the device computes from a film's counts as it is loaded are the host's,
/// for both line shapes, also where the film's platelets are more than one dispatch takes.
#[test]
fn gain_spectra_loaded_on_the_device_are_the_hosts() {
    // A single-precision sum of `terms` lines of one sign is off by about
    // √terms·2⁻²⁴ of itself; allow four times that.
    let tolerance = |terms: f64| 4.0 * terms.sqrt() * f64::from(f32::EPSILON) / 2.0;
    let Some(gpu) = gpu() else { return };
    // 2.9·10⁵ platelets are more than one dispatch takes: applied a few cells at a time.
    for (shape, samples) in [("lorentzian", 500), ("gaussian", 500), ("lorentzian", 6000)] {
        let c = small_film(&[
            "pump.fluence_uj_cm2=6",
            &format!("platelets.line_shape=\"{shape}\""),
            &format!("platelets.samples_per_cell={samples}"),
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let film = Film::sample(&setup, 0);
        assert!(film.platelets.iter().any(|p| p.n > setup.optics.degeneracy));
        let mut gain = GpuGain::new(&gpu, &setup).unwrap();
        let mut device = Film {
            platelets: Vec::new(),
            stim: vec![0.0; film.stim.len()],
            abs: vec![0.0; film.abs.len()],
        };
        gain.load(&setup, &film).unwrap();
        gain.read(&mut device).unwrap();
        let loaded = largest_difference(&device, &film);
        let terms = samples as f64;
        println!(
            "{shape}, {samples} per cell: loaded: largest difference {loaded:.2e} of the peak (allowed {:.2e})",
            tolerance(terms)
        );
        assert!(loaded < tolerance(terms));
    }
}

/// Where the platelets are kept on the device, the gain spectra follow their counts
/// there: each cell named is brought up to the counts it holds (the device finds the
/// changes), the others keep theirs, and a recomputation starts from every count.
#[test]
fn gain_spectra_follow_the_counts_on_the_device() {
    let tolerance = |terms: f64| 4.0 * terms.sqrt() * f64::from(f32::EPSILON) / 2.0;
    let Some(gpu) = gpu() else { return };
    for shape in ["lorentzian", "gaussian"] {
        let c = small_film(&[
            "pump.fluence_uj_cm2=15",
            "platelets.nonradiative_lifetime_ps=200",
            &format!("platelets.line_shape=\"{shape}\""),
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let (s, cells) = (setup.samples_per_cell, setup.grid.cells());
        let mut film = Film::sample(&setup, 0);
        let mut platelets = GpuPlatelets::new(&gpu, &setup).unwrap();
        platelets.load(&film);
        let mut gain = GpuGain::new(&gpu, &setup).unwrap();
        gain.attach(&platelets.counts, &platelets.energy).unwrap();
        gain.load(&setup, &film).unwrap();
        let mut device = Film {
            platelets: Vec::new(),
            stim: vec![0.0; film.stim.len()],
            abs: vec![0.0; film.abs.len()],
        };
        let all: Vec<u32> = (0..cells as u32).collect();
        let mut terms = s as f64;
        // Loss events change the counts on the device, step after step; the spectra
        // follow every cell, then every third.
        for step in 0..4u32 {
            platelets
                .decay(0, step, f64::from(2 * (step + 1)), &all)
                .unwrap();
            let named: Vec<u32> = all
                .iter()
                .copied()
                .filter(|c| step < 2 || c % 3 == step % 3)
                .collect();
            gain.follow(&named).unwrap();
            let counts = platelets.counts_of(&named).unwrap();
            let mut changed = 0;
            for (&c, now) in named.iter().zip(counts.chunks(s)) {
                let c = c as usize;
                for (p, &n) in film.platelets[c * s..(c + 1) * s].iter_mut().zip(now) {
                    changed += usize::from(p.n != n);
                    p.n = n;
                }
            }
            assert!(changed > 0, "step {step}: no count changed");
            terms += 2.0 * s as f64;
            film.recompute_gain(&setup);
            gain.read(&mut device).unwrap();
            let followed = largest_difference(&device, &film);
            println!(
                "{shape}: step {step}: {changed} platelets changed in {} cells followed: largest difference {followed:.2e} of the peak (allowed {:.2e})",
                named.len(),
                tolerance(terms)
            );
            assert!(followed < tolerance(terms));
        }
        // Recomputed from the device's counts, every cell's.
        gain.recompute_on_device().unwrap();
        let counts = platelets.counts_of(&all).unwrap();
        for (p, &n) in film.platelets.iter_mut().zip(&counts) {
            p.n = n;
        }
        film.recompute_gain(&setup);
        gain.read(&mut device).unwrap();
        assert!(largest_difference(&device, &film) < tolerance(s as f64));
    }
}

/// The device draws spontaneous emission's packets as the host does: platelets in
/// proportion to their exciton counts (against the exact expectation), and photon bins,
/// start times and directions (against the host's draws), for both line shapes, with
/// and without the axial cone; a cell without excitons draws none.
#[test]
fn spontaneous_emission_on_the_device_draws_as_the_host() {
    use asemc::ase::spontaneous::{Draw, draw};
    use asemc::ase::weight_tree::WeightTree;
    use asemc::rng::{Purpose, Stream};
    const PER_CELL: u32 = 400;
    let Some(gpu) = gpu() else { return };
    for (shape, cone) in [
        ("lorentzian", 10.0),
        ("gaussian", 10.0),
        ("lorentzian", 0.0),
    ] {
        let c = small_film(&[
            "pump.fluence_uj_cm2=6",
            &format!("platelets.line_shape=\"{shape}\""),
            &format!("run.axial_cone_deg={cone}"),
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let (s, cells, bins) = (
            setup.samples_per_cell,
            setup.grid.cells(),
            setup.spectrum.bins,
        );
        let film = Film::sample(&setup, 0);
        let mut platelets = GpuPlatelets::new(&gpu, &setup).unwrap();
        platelets.load(&film);
        let cell = |c: usize| &film.platelets[c * s..(c + 1) * s];
        let held = |c: usize| cell(c).iter().map(|p| u64::from(p.n)).sum::<u64>();
        let lit: Vec<usize> = (0..cells).filter(|&c| held(c) > 0).collect();
        let dark = (0..cells)
            .find(|&c| held(c) == 0)
            .expect("a cell outside the stripe");
        // Two steps' launches on the device, the dark cell's too.
        let mut launches: Vec<(u32, u32, u64)> =
            lit.iter().map(|&c| (c as u32, PER_CELL, held(c))).collect();
        launches.push((dark as u32, 50, 0));
        let mut device: Vec<Vec<Draw>> = vec![Vec::new(); cells];
        for step in 0..2 {
            let mut drawn = platelets.draws((0, step), &launches).unwrap().into_iter();
            for &(c, n, _) in &launches {
                device[c as usize].extend(drawn.by_ref().take(n as usize));
            }
            assert!(drawn.next().is_none());
        }
        assert!(device[dark].iter().all(|d| d.platelet.is_none()));
        // As many on the host, each cell from its own streams.
        let mut host: Vec<Vec<Draw>> = vec![Vec::new(); cells];
        for &c in &lit {
            let tree = WeightTree::new(cell(c).iter().map(|p| f64::from(p.n)).collect());
            for step in 0..2 {
                let mut rng = Stream::new(setup.seed, Purpose::Spontaneous, 1, step, c as u32);
                host[c].extend((0..PER_CELL).map(|_| draw(&setup, cell(c), &tree, &mut rng)));
            }
        }

        // Platelets picked, by cell and count (1, 2, 3 or more), against the expected
        // share of the cell's excitons.
        let classes = 3;
        let class = |n: u32| (n.max(1) - 1).min(2) as usize;
        let picks = |draws: &[Vec<Draw>]| {
            let mut got = vec![0.0; cells * classes];
            for &c in &lit {
                for d in &draws[c] {
                    let i = d.platelet.expect("a platelet of a cell with excitons");
                    assert!(cell(c)[i].n > 0, "a platelet without excitons picked");
                    got[c * classes + class(cell(c)[i].n)] += 1.0;
                }
            }
            got
        };
        let mut expected = vec![0.0; cells * classes];
        for &c in &lit {
            for p in cell(c).iter().filter(|p| p.n > 0) {
                expected[c * classes + class(p.n)] +=
                    f64::from(2 * PER_CELL) * f64::from(p.n) / held(c) as f64;
            }
        }
        for (who, draws) in [("host", &host), ("device", &device)] {
            let got = picks(draws);
            let (mut chi2, mut groups) = (0.0, 0);
            for (g, e) in got.iter().zip(&expected).filter(|(_, e)| **e > 0.0) {
                chi2 += (g - e).powi(2) / e;
                groups += 1;
            }
            // Each cell's number of draws is fixed: one constraint a cell.
            let cells_drawn = (0..cells)
                .filter(|c| {
                    expected[c * classes..(c + 1) * classes]
                        .iter()
                        .any(|e| *e > 0.0)
                })
                .count();
            let dof = (groups - cells_drawn) as f64;
            println!(
                "{shape}, cone {cone}°: {who}'s platelets: χ² = {chi2:.1} over {groups} groups in {cells_drawn} cells"
            );
            assert!(
                chi2 < dof + 4.0 * (2.0 * dof).sqrt(),
                "{who}: χ² = {chi2:.1}"
            );
        }

        // Bins (and outside the window), start times and directions: device against host.
        let tally = |draws: &[Vec<Draw>]| {
            let mut t = vec![0.0; bins + 1 + 10 + 2 * 10 + 4];
            for d in lit.iter().flat_map(|&c| &draws[c]) {
                let Some(b) = d.bin else {
                    t[bins] += 1.0;
                    continue;
                };
                t[b as usize] += 1.0;
                t[bins + 1 + (d.time_fraction * 10.0) as usize] += 1.0;
                for (k, dir) in d.dirs.iter().enumerate().take(1 + usize::from(cone > 0.0)) {
                    let band = ((dir[0] + 1.0) * 5.0).clamp(0.0, 9.0) as usize;
                    t[bins + 11 + 10 * k + band] += 1.0;
                }
                let quadrant =
                    usize::from(d.dirs[0][1] > 0.0) + 2 * usize::from(d.dirs[0][2] > 0.0);
                t[bins + 31 + quadrant] += 1.0;
            }
            t
        };
        let (chi2, worst, groups) = moves_chi2(&tally(&host), &tally(&device));
        let dof = groups as f64;
        println!(
            "{shape}, cone {cone}°: bins, times and directions: χ² = {chi2:.1} over {groups} groups, largest |z| = {worst:.2}"
        );
        assert!(chi2 < dof + 4.0 * (2.0 * dof).sqrt(), "χ² = {chi2:.1}");
        assert!(worst < 4.5);
    }
}

#[test]
fn platelet_decay_on_the_device_is_the_hosts() {
    // Far above threshold, with a non-radiative channel beside Auger, both scalings.
    // The device draws each platelet's events from the host's stream words in single
    // precision, so the two agree platelet by platelet but where rounding tips a
    // comparison.
    let Some(gpu) = gpu() else { return };
    for scaling in ["bimolecular", "cubic"] {
        let c = small_film(&[
            "pump.fluence_uj_cm2=15",
            "platelets.nonradiative_lifetime_ps=200",
            &format!("platelets.auger_scaling=\"{scaling}\""),
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let (s, cells) = (setup.samples_per_cell, setup.grid.cells());
        let film = Film::sample(&setup, 0);
        let initial: Vec<u64> = film
            .platelets
            .chunks(s)
            .map(|ps| ps.iter().map(|p| u64::from(p.n)).sum())
            .collect();
        let mut host = film.platelets.clone();
        let (mut nonradiative, mut auger) = ([0u64; 2], [0u64; 2]);
        let run_device = |passes: u32| {
            let mut device = GpuPlatelets::with_loop_passes(&gpu, &setup, passes).unwrap();
            device.load(&film);
            let mut earliest = vec![0.0f32; cells];
            let mut events = (0u64, 0u64);
            let mut last = device.read().unwrap();
            for step in 0..40u32 {
                let t1 = 0.5 * f64::from(step + 1);
                // As the engine lists them: the cells whose earliest event falls due.
                let listed: Vec<u32> = (0..cells as u32)
                    .filter(|&c| f64::from(earliest[c as usize]) < t1)
                    .collect();
                let decayed = device.decay(0, step, t1, &listed).unwrap();
                assert_eq!(decayed.len(), listed.len());
                let (counts, next) = device.read().unwrap();
                for (&c, d) in listed.iter().zip(&decayed) {
                    let c = c as usize;
                    let (n, t) = (&counts[c * s..(c + 1) * s], &next[c * s..(c + 1) * s]);
                    let g_d = setup.optics.degeneracy;
                    assert_eq!(d.excitons, n.iter().sum::<u32>(), "cell {c}");
                    assert_eq!(
                        d.room,
                        n.iter().map(|&n| g_d.saturating_sub(n)).sum::<u32>()
                    );
                    assert_eq!(d.next, t.iter().fold(f32::INFINITY, |m, &t| m.min(t)));
                    assert!(
                        d.next >= t1 as f32,
                        "cell {c}: an event left before {t1} ps"
                    );
                    earliest[c] = d.next;
                    events.0 += u64::from(d.nonradiative);
                    events.1 += u64::from(d.auger);
                }
                // The cells not listed are left as they were.
                for c in (0..cells).filter(|&c| !listed.contains(&(c as u32))) {
                    assert_eq!(counts[c * s..(c + 1) * s], last.0[c * s..(c + 1) * s]);
                    assert_eq!(next[c * s..(c + 1) * s], last.1[c * s..(c + 1) * s]);
                }
                last = (counts, next);
            }
            let (counts, next) = device.read().unwrap();
            (counts, next, events)
        };
        let (counts, next, events) = run_device(LOOP_PASSES);
        for step in 0..40u32 {
            let t1 = 0.5 * f64::from(step + 1);
            for (c, ps) in host.chunks_mut(s).enumerate() {
                loss_events(
                    &setup,
                    ps,
                    c * s,
                    (0, step),
                    t1,
                    |_, loss, _, _| match loss {
                        Loss::NonRadiative => nonradiative[0] += 1,
                        Loss::Auger => auger[0] += 1,
                    },
                );
            }
        }
        (nonradiative[1], auger[1]) = events;
        // Every exciton lost is an event the device counted.
        let lost: u64 =
            initial.iter().sum::<u64>() - counts.iter().map(|&n| u64::from(n)).sum::<u64>();
        assert_eq!(lost, nonradiative[1] + auger[1]);
        let differ = host
            .iter()
            .zip(&counts)
            .zip(&next)
            .filter(|&((h, &n), &t)| {
                h.n != n || (h.next_ps - f64::from(t)).abs() > 1e-4 * h.next_ps.max(1.0)
            })
            .count();
        println!(
            "{scaling}: {} platelets; host {} non-radiative and {} Auger events, device {} and {}; {differ} platelets differ",
            host.len(),
            nonradiative[0],
            auger[0],
            nonradiative[1],
            auger[1]
        );
        assert!(nonradiative[0] > 1000 && auger[0] > 10_000);
        assert!(differ * 1000 <= host.len(), "{differ} platelets differ");
        for (h, d) in [nonradiative, auger].map(|[h, d]| (h as f64, d as f64)) {
            assert!(
                (h - d).abs() <= 1e-3 * h,
                "{h} events on the host, {d} on the device"
            );
        }
        // Same seed, same platelets.
        let again = run_device(LOOP_PASSES);
        assert_eq!((again.0, again.2), (counts, events));
        assert!(
            again
                .1
                .iter()
                .zip(&next)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        // 100 ps in one step on cells of 2000 platelets, with workgroups that stop
        // after 210 loop passes (32 platelets an invocation and their events, some 240
        // of them) and go on in further dispatches, on other random numbers: every
        // exciton lost is still an event, and the events are the host's within their
        // spread.
        let c = small_film(&[
            "pump.fluence_uj_cm2=15",
            "platelets.nonradiative_lifetime_ps=200",
            &format!("platelets.auger_scaling=\"{scaling}\""),
            "platelets.samples_per_cell=2000",
        ]);
        let setup = AseSetup::from_config(&c).unwrap();
        let s = setup.samples_per_cell;
        let film = Film::sample(&setup, 0);
        let initial: u64 = film.platelets.iter().map(|p| u64::from(p.n)).sum();
        let mut host = film.platelets.clone();
        let mut on_host = [0u64; 2];
        for (c, ps) in host.chunks_mut(s).enumerate() {
            loss_events(&setup, ps, c * s, (0, 0), 100.0, |_, loss, _, _| {
                on_host[usize::from(loss == Loss::Auger)] += 1
            });
        }
        // Three cells a dispatch, too.
        let mut device = GpuPlatelets::with_loop_passes(&gpu, &setup, 210)
            .unwrap()
            .with_dispatch_platelets(3 * s);
        device.load(&film);
        let all: Vec<u32> = (0..cells as u32).collect();
        let decayed = device.decay(0, 0, 100.0, &all).unwrap();
        let (counts, next) = device.read().unwrap();
        assert!(next.iter().all(|&t| t >= 100.0));
        let (nonradiative_d, auger_d) = decayed.iter().fold((0, 0), |(a, b), d| {
            (a + u64::from(d.nonradiative), b + u64::from(d.auger))
        });
        let lost: u64 = initial - counts.iter().map(|&n| u64::from(n)).sum::<u64>();
        assert_eq!(lost, nonradiative_d + auger_d);
        println!(
            "{scaling}, 100 ps stopping after 210 passes: host {} non-radiative and {} Auger events, device {nonradiative_d} and {auger_d}",
            on_host[0], on_host[1]
        );
        for (h, d) in [(on_host[0], nonradiative_d), (on_host[1], auger_d)] {
            let (h, d) = (h as f64, d as f64);
            assert!(
                (h - d).abs() <= 4.0 * (h + d).sqrt(),
                "{h} events on the host, {d} on the device"
            );
        }
    }
}

/// Σ z² and the largest |z| of two independent samples of moves per group of platelets
/// (z = (a − b)/√(a + b), the Poisson bound on the variance of a multinomial count),
/// over the groups either moved any exciton in; and how many groups that is.
fn moves_chi2(a: &[f64], b: &[f64]) -> (f64, f64, usize) {
    let z: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| *x + *y > 0.0)
        .map(|(x, y)| (x - y) / (x + y).sqrt())
        .collect();
    let chi2 = z.iter().map(|z| z * z).sum();
    (chi2, z.iter().fold(0.0f64, |m, z| m.max(z.abs())), z.len())
}

#[test]
fn platelet_booking_on_the_device_draws_as_the_host() {
    use asemc::ase::exchange::apply_cell;
    use asemc::ase::exchange::{Order, OrderKind};
    use asemc::ase::platelets::{GainFollower, Platelet};
    use asemc::ase::spontaneous::book_radiative;
    use asemc::ase::tally::Ledger;
    use asemc::gpu::platelets::GpuOrder;
    use asemc::rng::{Purpose, Stream};
    // Bookings of the same film compared, each from its own streams.
    const REPS: u32 = 40;
    let Some(gpu) = gpu() else { return };
    let c = small_film(&["pump.fluence_uj_cm2=6"]);
    let setup = AseSetup::from_config(&c).unwrap();
    let (s, cells, bins) = (
        setup.samples_per_cell,
        setup.grid.cells(),
        setup.spectrum.bins,
    );
    let (w, g_d, mean) = (
        setup.platelet_weight,
        setup.optics.degeneracy,
        setup.optics.mean_energy_ev,
    );
    let film = Film::sample(&setup, 0);
    let all: Vec<u32> = (0..cells as u32).collect();
    let order = |kind, energy_ev, count| {
        GpuOrder::new(
            &Order {
                kind,
                energy_ev,
                count,
            },
            mean,
        )
    };
    // Platelets grouped by transition energy (ten bands over ±2 standard deviations)
    // and count before the booking (0, 1, 2, more): 40 groups.
    let sigma = setup.optics.inhomogeneous_sigma_ev;
    let group = |p: &Platelet| {
        let band = (((p.energy_ev - mean) / sigma + 2.0) * 2.5).clamp(0.0, 9.0) as usize;
        band * 4 + p.n.min(3) as usize
    };
    // Excitons moved in each group, and platelets moved once, twice, more often (which
    // a booking that kept a moved platelet from moving again soon would get wrong).
    let moves = |after: &[u32], into: &mut [f64]| {
        for (p, &n) in film.platelets.iter().zip(after) {
            let moved = p.n.abs_diff(n);
            into[group(p)] += f64::from(moved);
            if moved > 0 {
                into[40 + moved.min(3) as usize - 1] += 1.0;
            }
        }
    };
    // Five bins across the window, each asked for 4 % of a cell's excitons (stimulated
    // emission) or of its room (absorption); radiative decay of a tenth of its excitons.
    let chosen: Vec<usize> = (1..6).map(|k| k * bins / 6).collect();
    let held: Vec<(u32, u32)> = film
        .platelets
        .chunks(s)
        .map(|ps| {
            (
                ps.iter().map(|p| p.n).sum(),
                ps.iter().map(|p| g_d.saturating_sub(p.n)).sum(),
            )
        })
        .collect();
    for kind in [
        OrderKind::Stimulated,
        OrderKind::Absorbed,
        OrderKind::Radiative,
    ] {
        let count = |c: usize| match kind {
            OrderKind::Stimulated => held[c].0 / 25,
            OrderKind::Absorbed => held[c].1 / 25,
            OrderKind::Radiative => held[c].0 / 10,
        };
        let mut orders = Vec::new();
        let mut first = vec![0u32];
        for c in 0..cells {
            match kind {
                OrderKind::Radiative => orders.push(order(kind, 0.0, count(c))),
                _ => orders.extend(
                    chosen
                        .iter()
                        .map(|&b| order(kind, setup.spectrum.energy_ev[b], count(c))),
                ),
            }
            first.push(orders.len() as u32);
        }
        let mut host = vec![0.0; 43];
        // The device's, with the kernel's own limit of loop passes and with one that
        // makes every workgroup stop and go on in further dispatches.
        let mut device = [vec![0.0; 43], vec![0.0; 43]];
        let mut ordered = 0u64;
        for rep in 0..REPS {
            // The host's bookings, from the sampled film each time.
            let mut platelets = film.platelets.clone();
            for (c, ps) in platelets.chunks_mut(s).enumerate() {
                let mut log = Vec::new();
                let mut gain = GainFollower::Log(&mut log);
                let whole = f64::from(count(c)) * w + 0.5 * w;
                if kind == OrderKind::Radiative {
                    let mut rng = Stream::new(setup.seed, Purpose::Radiative, 0, rep, c as u32);
                    let mut pending = whole;
                    book_radiative(&setup, ps, &mut gain, &mut pending, 1.0, 1.0, &mut rng);
                } else {
                    let mut rng = Stream::new(setup.seed, Purpose::Exchange, 0, rep, c as u32);
                    let (mut ps_s, mut ps_a) = (vec![0.0; bins], vec![0.0; bins]);
                    let pending = if kind == OrderKind::Stimulated {
                        &mut ps_s
                    } else {
                        &mut ps_a
                    };
                    for &b in &chosen {
                        pending[b] = whole;
                    }
                    let mut led = Ledger::default();
                    apply_cell(
                        &setup, ps, &mut gain, &mut ps_s, &mut ps_a, 1.0, 1.0, &mut rng, &mut led,
                    );
                    assert_eq!(led.unbooked_stimulated + led.unbooked_absorbed, 0.0);
                }
            }
            let after: Vec<u32> = platelets.iter().map(|p| p.n).collect();
            moves(&after, &mut host);

            // The device's, likewise (stopping early, it also takes 2 cells a dispatch).
            for (passes, device) in [LOOP_PASSES, 70].into_iter().zip(&mut device) {
                let most = if passes == LOOP_PASSES {
                    MAX_PLATELETS
                } else {
                    2 * s
                };
                let mut device_platelets = GpuPlatelets::with_loop_passes(&gpu, &setup, passes)
                    .unwrap()
                    .with_dispatch_platelets(most);
                device_platelets.load(&film);
                let purpose = if kind == OrderKind::Radiative {
                    Purpose::Radiative
                } else {
                    Purpose::Exchange
                };
                let (booked, left) = device_platelets
                    .book(purpose, 0, rep, 1.0, &all, &first, &orders)
                    .unwrap();
                assert!(
                    left.iter().all(|&l| l == 0),
                    "{kind:?}: excitons left unbooked"
                );
                let (counts, next) = device_platelets.read().unwrap();
                for (c, b) in booked.iter().enumerate() {
                    let (n, t) = (&counts[c * s..(c + 1) * s], &next[c * s..(c + 1) * s]);
                    let asked: u32 = orders[first[c] as usize..first[c + 1] as usize]
                        .iter()
                        .map(|o| o.count)
                        .sum();
                    assert_eq!(b.moved, asked);
                    assert_eq!(b.excitons, n.iter().sum::<u32>());
                    assert_eq!(
                        b.room,
                        n.iter().map(|&n| g_d.saturating_sub(n)).sum::<u32>()
                    );
                    assert_eq!(b.next, t.iter().fold(f32::INFINITY, |m, &t| m.min(t)));
                    let change = i64::from(b.excitons) - i64::from(held[c].0);
                    let sign = if kind == OrderKind::Absorbed { 1 } else { -1 };
                    assert_eq!(change, sign * i64::from(asked), "cell {c}");
                    ordered += u64::from(asked) * u64::from(passes == LOOP_PASSES);
                }
                // A moved platelet's next event is drawn anew from the booking time; the
                // others keep theirs.
                for ((p, &n), &t) in film.platelets.iter().zip(&counts).zip(&next) {
                    if n != p.n {
                        assert!(t >= 1.0 || n == 0 && t == f32::INFINITY);
                    } else {
                        assert_eq!(t, p.next_ps as f32);
                    }
                }
                moves(&counts, device);
            }
        }
        for (device, how) in device.iter().zip(["", ", stopping after 70 loop passes"]) {
            let (chi2, worst, groups) = moves_chi2(&host, device);
            let dof = groups as f64;
            println!(
                "{kind:?}{how}: {ordered} excitons moved on the device in {REPS} bookings of {} platelets; {groups} groups: χ² = {chi2:.1}, largest |z| = {worst:.2}",
                film.platelets.len()
            );
            assert!(
                chi2 < dof + 4.0 * (2.0 * dof).sqrt(),
                "χ² = {chi2:.1} over {groups} groups"
            );
            assert!(worst < 4.5);
        }
    }
    // Orders for more than the platelets can give or take: every platelet is filled to
    // g_d (emptied), the rest left unbooked, however small the last weights.
    let mut device_platelets = GpuPlatelets::new(&gpu, &setup).unwrap();
    device_platelets.load(&film);
    let centre = setup.spectrum.energy_ev[bins / 2];
    let beyond = |kind, c: usize, extra| {
        let n = if kind == OrderKind::Absorbed {
            held[c].1
        } else {
            held[c].0
        };
        order(kind, centre, n + extra)
    };
    let first: Vec<u32> = (0..=cells as u32).collect();
    let fill: Vec<GpuOrder> = (0..cells)
        .map(|c| beyond(OrderKind::Absorbed, c, 7))
        .collect();
    let (booked, left) = device_platelets
        .book(Purpose::Exchange, 0, 0, 1.0, &all, &first, &fill)
        .unwrap();
    assert!(left.iter().all(|&l| l == 7), "{left:?}");
    assert!(booked.iter().all(|b| b.room == 0));
    // Radiative decay of every exciton now held, and 3 more.
    let excitons: Vec<u32> = booked.iter().map(|b| b.excitons).collect();
    let empty: Vec<GpuOrder> = (0..cells)
        .map(|c| order(OrderKind::Radiative, 0.0, excitons[c] + 3))
        .collect();
    let (booked, left) = device_platelets
        .book(Purpose::Radiative, 0, 0, 1.0, &all, &first, &empty)
        .unwrap();
    assert!(left.iter().all(|&l| l == 3), "{left:?}");
    assert!(
        booked
            .iter()
            .all(|b| b.excitons == 0 && b.next == f32::INFINITY)
    );
}

/// On a software adapter, whose loops stop after 65535 passes, a film whose cells hold
/// more platelets than the gain kernel can list and apply in that many is refused with
/// a clear message, not computed wrong.
#[test]
fn a_software_adapter_refuses_cells_too_large_for_its_loops() {
    let Some(gpu) = gpu() else { return };
    for samples in [40000, 28500] {
        let c = small_film(&[&format!("platelets.samples_per_cell={samples}")]);
        let setup = AseSetup::from_config(&c).unwrap();
        match GpuAse::new(&gpu, &setup, 0) {
            Err(e) if gpu.is_software() => {
                let message = e.to_string();
                println!("{message}");
                assert!(
                    message.contains(&format!("{samples} sampled platelets a cell")),
                    "{message}"
                );
            }
            Err(e) => panic!("a hardware GPU refused the film: {e}"),
            Ok(_) => assert!(!gpu.is_software(), "the software adapter took the film"),
        }
    }
    // Below the limit the film is taken.
    let c = small_film(&["platelets.samples_per_cell=20000"]);
    let setup = AseSetup::from_config(&c).unwrap();
    assert!(GpuAse::new(&gpu, &setup, 0).is_ok());
}

#[test]
fn kinetics_on_the_gpu_backend_are_the_cpus() {
    // Without stimulated emission the photons never act on the platelets, so the
    // populations follow the kinetics alone: exactly those the CPU run checks against
    // the master equation (tests/kinetics.rs).
    let Some(gpu) = gpu() else { return };
    let c = load(
        &configs_dir().join("validation/kinetics.toml"),
        &strings(&["run.duration_ps=50", "pump.mean_excitons=2"]),
    )
    .unwrap()
    .points
    .remove(0);
    let (g, cpu) = (on_gpu(&gpu, &c, 0), on_cpu(&c, 0));
    assert!(g.snapshot_ps.len() > 3);
    assert_eq!(g.snapshot_ps, cpu.snapshot_ps);
    // The device draws its loss events on the streams the host uses, its event times
    // in single precision: each fraction of the stripe's platelets holding n excitons
    // agrees with the CPU's within 3σ of the difference of two independent samples of
    // that many platelets (the streams shared, the difference is smaller still).
    let stripe = g.platelets as f64;
    assert_eq!(g.populations[0], cpu.populations[0], "the same film");
    for (t, (a, b)) in g.populations.iter().zip(&cpu.populations).enumerate() {
        for n in 0..a.len().max(b.len()) {
            let (x, y) = (
                a.get(n).copied().unwrap_or(0.0),
                b.get(n).copied().unwrap_or(0.0),
            );
            let p = 0.5 * (x + y);
            let sigma = (2.0 * p * (1.0 - p) / stripe).sqrt();
            assert!(
                (x - y).abs() <= 3.0 * sigma + 0.5 / stripe,
                "snapshot {t}, n = {n}: gpu {x}, cpu {y} (σ {sigma:.2e})"
            );
        }
    }
    assert!(g.packets > 0 && g.ledger.exits.iter().sum::<f64>() > 0.0);
}

#[test]
fn energy_is_conserved_on_the_gpu_from_a_tenth_to_a_hundred_times_threshold() {
    let Some(gpu) = gpu() else { return };
    // 10 ps up to threshold; at ten and a hundred times threshold 2 ps and 0.5 ps
    // with 100 sampled platelets a cell: lavapipe books the device's excitons one
    // workgroup round after another, slowly far above threshold.
    for (factor, duration, samples) in [
        (0.1, 10.0, 500),
        (1.0, 10.0, 500),
        (10.0, 2.0, 100),
        (100.0, 0.5, 100),
    ] {
        let fluence = format!("pump.fluence_uj_cm2={}", factor * THRESHOLD_UJ_CM2);
        let c = small_film(&[
            &fluence,
            &format!("run.duration_ps={duration}"),
            &format!("platelets.samples_per_cell={samples}"),
        ]);
        let started = std::time::Instant::now();
        // With the engine's invariants checked every step: the cells' summaries
        // against the device's counts.
        let mut setup = AseSetup::from_config(&c).unwrap();
        setup.check_invariants = true;
        let out = stages::run(&gpu, &setup, 0, &|_| {}).unwrap();
        println!(
            "{factor}×, {duration} ps: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let l = &out.ledger;
        let error = l.balance_error();
        println!(
            "{factor}× threshold on the GPU: energy balance error {error:.2e}, {} packets, stimulated {:.3e} photons for {:.3e} pump excitons",
            out.packets, l.stimulated, l.pump_excitons
        );
        // The device sums in fixed point, the host in f64: the books stay exact to the
        // rounding of what flowed through them, the pump and the gross exchange (above
        // threshold tens of times the pump, photons absorbed and emitted again).
        let flow = l.pump_excitons + l.stimulated + l.absorbed;
        let of_flow = error * l.pump_excitons / flow;
        assert!(
            of_flow.abs() <= common::GPU_BALANCE_ROUNDING && error.abs() <= 1e-6,
            "{factor}×: energy balance error {error:.3e} of the pump, {of_flow:.3e} of the flow"
        );
        if factor >= 1.0 {
            assert!(
                l.stimulated > 0.0 && l.absorbed > 0.0,
                "{factor}×: no exchange"
            );
        }
    }
}

/// The tallies summed on the device in fixed point (tallies.wgsl) against the host's
/// sums of the same packets (every term out of a tiny unit's range, so that the host
/// sums every dispatch, as it does one with a term too large). The runs take the same
/// paths, so every total differs by the rounding of the host's double-precision sums
/// alone (the device's are exact sums of the terms in single precision). A sum of n
/// terms in double precision is off by at most n·2^-52·Σ|termᵢ| (a packet's exchange
/// with a cell takes a path segment at least, its exit one packet). Σ|termᵢ| is the
/// total itself for the sums of positive terms (exchanges, exits, every spectrum bin;
/// the time bins are bounded by the photons that flew, see below). Roulette's terms have both signs: each play moves at most
/// (1/p − 1)·threshold of the packet's birth weight, the birth weights add up to the
/// spontaneous photons, and a packet plays 1/(1 − p) times on average, so
/// Σ|termᵢ| ≤ 2·(1/p − 1)·threshold·spontaneous, far below roulette's net. Everything
/// else is the same to the bit. Time bins of 10 fs against 20 fs steps: steps
/// straddle bins.
#[test]
fn tallies_summed_on_the_device_are_the_hosts() {
    let Some(gpu) = gpu() else { return };
    let c = small_film(&[
        "pump.fluence_uj_cm2=8",
        "run.duration_ps=3",
        "tally.time_bins=300",
    ]);
    let setup = AseSetup::from_config(&c).unwrap();
    let run = |host: bool| {
        let mut state = GpuAse::new(&gpu, &setup, 0).unwrap();
        if host {
            // Every term out of the fixed point's range: the host sums them all.
            state = state.with_tally_unit(2f64.powi(-126));
        }
        let out = ase::run_stages(&setup, 0, &mut state, &|_| {}).unwrap();
        (out, state.tallied_on_host())
    };
    let ((device, on_host_d), (host, on_host_h)) = (run(false), run(true));
    assert_eq!(on_host_d, 0);
    assert!(on_host_h >= host.steps);
    assert_eq!(device.photon_segments, host.photon_segments);
    assert_eq!(device.populations, host.populations);
    let allowed = |terms: u64, gross: f64| terms as f64 * f64::EPSILON * gross;
    let (d, h) = (&device.ledger, &host.ledger);
    let (segments, packets) = (host.photon_segments, host.packets);
    let r = setup.roulette;
    let roulette_gross = 2.0 * (1.0 / r.survival - 1.0) * r.threshold * h.spontaneous;
    println!(
        "roulette: net {:.3e}, gross at most {roulette_gross:.3e} photons",
        h.roulette_net
    );
    assert!(allowed(segments, roulette_gross) < 1e-3 * h.roulette_net.abs());
    let summed = [
        (
            "stimulated",
            d.stimulated,
            h.stimulated,
            segments,
            h.stimulated,
        ),
        ("absorbed", d.absorbed, h.absorbed, segments, h.absorbed),
        (
            "background",
            d.background,
            h.background,
            segments,
            h.background,
        ),
        (
            "roulette",
            d.roulette_net,
            h.roulette_net,
            segments,
            roulette_gross,
        ),
        ("detector", d.exits[0], h.exits[0], packets, h.exits[0]),
        ("other edges", d.exits[1], h.exits[1], packets, h.exits[1]),
        ("surface", d.exits[2], h.exits[2], packets, h.exits[2]),
        ("substrate", d.exits[3], h.exits[3], packets, h.exits[3]),
    ];
    for (name, a, b, terms, gross) in summed {
        let allowed = allowed(terms, gross);
        println!(
            "{name}: device {a:.9e}, host {b:.9e}, difference {:.2e} (allowed {allowed:.2e})",
            a - b
        );
        assert!(b != 0.0, "{name}: nothing to compare");
        assert!((a - b).abs() <= allowed, "{name}: device {a:e}, host {b:e}");
    }
    let mut rest = (d.clone(), h.clone());
    for l in [&mut rest.0, &mut rest.1] {
        (
            l.stimulated,
            l.absorbed,
            l.background,
            l.roulette_net,
            l.exits,
        ) = (0.0, 0.0, 0.0, 0.0, [0.0; 4]);
    }
    assert_eq!(rest.0, rest.1);
    let channels = [
        ("spectrum", &device.tally.spectrum, &host.tally.spectrum),
        ("trace", &device.tally.trace, &host.tally.trace),
    ];
    for (name, a, b) in channels {
        let filled = b.iter().filter(|&&x| x > 0.0).count();
        // A spectrum bin is a sum of positive terms. An exit's time bin is found in
        // single precision on the device and in double on the host, so a packet that
        // leaves within rounding of a bin's edge may land in the next bin: a time bin
        // may differ by such a packet's weight, bounded by the rounding of every
        // photon that flew.
        let flew = h.spontaneous + h.stimulated;
        let worst = a
            .iter()
            .zip(b.iter())
            .filter(|(_, y)| **y > 0.0)
            .map(|(x, y)| {
                let gross = if name == "trace" { flew } else { *y };
                (x - y).abs() / allowed(packets, gross)
            })
            .fold(0.0, f64::max);
        assert!(
            name == "trace" || a.iter().zip(b.iter()).all(|(x, y)| *y > 0.0 || x == y),
            "{name}: a bin empty on the host is filled on the device"
        );
        println!(
            "{name}: {filled} of {} bins filled; largest difference {worst:.2e} of allowed",
            b.len()
        );
        assert!(filled > b.len() / 10, "{name}: {filled} bins filled");
        assert!(
            worst <= 1.0,
            "{name}: a bin differs by {worst:.2} times the allowed"
        );
    }
}

#[test]
fn same_seed_same_result_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let c = small_film(&["pump.fluence_uj_cm2=8", "run.duration_ps=3"]);
    let (a, b) = (on_gpu(&gpu, &c, 0), on_gpu(&gpu, &c, 0));
    assert_eq!(a.ledger, b.ledger);
    assert_eq!(a.tally, b.tally);
    assert_eq!(a.populations, b.populations);
    assert_eq!(a.gain, b.gain);
    assert!(a.ledger.stimulated > 0.0);
    let other = on_gpu(
        &gpu,
        &small_film(&["pump.fluence_uj_cm2=8", "run.duration_ps=3", "run.seed=7"]),
        0,
    );
    assert_ne!(other.ledger, a.ledger);
}

#[test]
fn a_scattering_film_gives_the_cpus_exits_on_the_gpu() {
    // Scattering film and substrate (the kernel's scattering branches, built only
    // when a layer scatters) below threshold: four seeds per backend; each exit
    // channel agrees within 3σ, and scattering moves light off the detector's edge
    // compared with the clear film.
    let Some(gpu) = gpu() else { return };
    let film = |scattering: f64, seed: u64| {
        small_film(&[
            "pump.fluence_uj_cm2=1",
            "run.duration_ps=5",
            &format!("run.seed={seed}"),
            &format!("film.scattering_per_cm={scattering}"),
            "film.anisotropy=0.5",
            "substrate.thickness_um=50",
            &format!("substrate.scattering_per_cm={}", scattering / 10.0),
        ])
    };
    let exits = |out: &AseOutput| out.ledger.exits;
    let mut g_runs = Vec::new();
    let mut c_runs = Vec::new();
    for seed in 1..=4 {
        g_runs.push(exits(&on_gpu(&gpu, &film(2000.0, seed), 0)));
        c_runs.push(exits(&on_cpu(&film(2000.0, seed), 0)));
    }
    for (k, name) in ["detector", "other edges", "surface", "substrate"]
        .iter()
        .enumerate()
    {
        let g: Vec<f64> = g_runs.iter().map(|e| e[k]).collect();
        let c: Vec<f64> = c_runs.iter().map(|e| e[k]).collect();
        let ((gm, ge), (cm, ce)) = (mean_and_error(&g), mean_and_error(&c));
        println!("{name}: gpu {gm:.4e} ± {ge:.1e}, cpu {cm:.4e} ± {ce:.1e}");
        assert!(gm > 0.0);
        assert_within_sigma(name, gm, (ge * ge + ce * ce).sqrt(), cm, 3.0);
    }
    let clear = exits(&on_gpu(&gpu, &film(0.0, 1), 0));
    println!("clear film: detector {:.4e}", clear[0]);
    assert!(g_runs[0][0] < 0.8 * clear[0]);
}

/// What the packets did on one backend: the exits' tallies, the ledger, the path
/// segments.
struct Moved {
    tally: ExitTally,
    ledger: Ledger,
    segments: u64,
}

/// The packets of the film of `c`, launched on the host step after step as the CPU
/// engine launches them, moved through every step by the GPU transport and by the CPU
/// transport from the same states on the same streams (frozen populations: the
/// exchange is not booked). Returns both, and the packet steps the GPU followed on
/// the CPU.
fn transport_on_both(gpu: &Gpu, c: &Config) -> (Moved, Moved, u64) {
    let setup = AseSetup::from_config(c).unwrap();
    let film = Film::sample(&setup, 0);
    let mut launcher = Books::new(&setup, &film);
    let held = launcher.held(&setup);
    let mut gain = GpuGain::new(gpu, &setup).unwrap();
    gain.load(&setup, &film).unwrap();
    let mut transport = GpuTransport::new(gpu, &setup).unwrap();
    let view = StepView {
        setup: &setup,
        stim: &film.stim,
        abs: &film.abs,
        cell_excitons: &held,
    };
    let fresh = || Moved {
        tally: ExitTally::new(setup.spectrum.bins, setup.time_bins, setup.duration_ps),
        ledger: Ledger::default(),
        segments: 0,
    };
    let (mut g, mut cpu) = (fresh(), fresh());
    let (mut on_g, mut on_cpu): (Vec<AsePacket>, Vec<AsePacket>) = (Vec::new(), Vec::new());
    let steps = (setup.duration_ps / setup.dt_ps).round() as u32;
    for step in 0..steps {
        let t0 = f64::from(step) * setup.dt_ps;
        let span = Span {
            point: 0,
            step,
            t0,
            t1: t0 + setup.dt_ps,
        };
        launcher.packets.clear();
        spontaneous_emission(&setup, &film, &mut launcher, span);
        on_g.extend(launcher.packets.iter().cloned());
        on_cpu.extend(launcher.packets.iter().cloned());
        let (_, segments) = transport
            .advance_all(&view, &gain, &mut on_g, span, &mut g.tally, &mut g.ledger)
            .unwrap();
        g.segments += segments;
        let (_, segments) = advance_all(&view, &mut on_cpu, span, &mut cpu.tally, &mut cpu.ledger);
        cpu.segments += segments;
        on_g.retain(|p| p.fate == Fate::Alive);
        on_cpu.retain(|p| p.fate == Fate::Alive);
    }
    g.ledger.in_flight = on_g.iter().map(|p| p.weight).sum();
    cpu.ledger.in_flight = on_cpu.iter().map(|p| p.weight).sum();
    (g, cpu, transport.overflowed)
}

#[test]
fn packets_meeting_many_cells_in_a_step_are_followed_on_the_cpu() {
    // 0.6 µm cells and 100 fs steps (17 µm of path): a packet along the stripe
    // crosses more cells in a step than the kernel has entries for, and is followed
    // again on the CPU with the device's gain spectra. The streams are the CPU's, so
    // the exits agree.
    let Some(gpu) = gpu() else { return };
    let c = small_film(&[
        "pump.fluence_uj_cm2=1",
        "grid.cells_x=200",
        "platelets.samples_per_cell=20",
        "run.time_step_fs=100",
        "run.duration_ps=3",
    ]);
    let (g, cpu, overflowed) = transport_on_both(&gpu, &c);
    println!(
        "{overflowed} packet steps followed on the CPU ({} path segments in all); detector gpu {:.6e}, cpu {:.6e}",
        g.segments, g.ledger.exits[0], cpu.ledger.exits[0]
    );
    assert!(overflowed > 100);
    for (k, (a, b)) in g.ledger.exits.iter().zip(&cpu.ledger.exits).enumerate() {
        // Single precision's rounding alone: at most 3.0e-7 of each exit measured.
        assert!((a - b).abs() <= 1e-5 * b, "exit {k}: gpu {a:e}, cpu {b:e}");
    }
}

/// Steps of 20 ps through a thick, strongly scattering substrate (2·10⁵ cm⁻¹, 4 mm of
/// path a step): some packets take more segments in a step than a software adapter's
/// loops run (it would leave them without a word, the packets lagging behind), and are
/// followed on the CPU. The streams are the CPU's: the segments, exits and light in
/// flight agree.
#[test]
fn packets_past_the_devices_loop_limit_in_a_step_are_followed_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let c = small_film(&[
        "pump.fluence_uj_cm2=1",
        "grid.cells_x=1",
        "grid.cells_y=1",
        "run.packets_per_step=4096",
        "run.time_step_fs=20000",
        "run.duration_ps=40",
        "tally.time_bins=2",
        "substrate.thickness_um=2000",
        "substrate.scattering_per_cm=2e5",
    ]);
    let (g, cpu, overflowed) = transport_on_both(&gpu, &c);
    println!(
        "{overflowed} packet steps followed on the CPU; path segments gpu {}, cpu {}; in flight gpu {:.6e}, cpu {:.6e}",
        g.segments, cpu.segments, g.ledger.in_flight, cpu.ledger.in_flight
    );
    if gpu.is_software() {
        assert!(overflowed > 0);
    }
    // Some 10⁵ segments a packet: a few packets take another branch at a draw within
    // single precision's rounding of its threshold, and their paths part. Measured:
    // segments 1.9e-5 apart, light in flight 2.7e-6, the exits 4e-7 but the few
    // photons of the surface 2.2e-4.
    let close = |a: f64, b: f64, within: f64| (a - b).abs() <= within * b.abs();
    assert!(close(g.segments as f64, cpu.segments as f64, 1e-4));
    assert!(close(g.ledger.in_flight, cpu.ledger.in_flight, 1e-4));
    for (k, (a, b)) in g.ledger.exits.iter().zip(&cpu.ledger.exits).enumerate() {
        assert!(close(*a, *b, 1e-3), "exit {k}: gpu {a:e}, cpu {b:e}");
    }
}

#[test]
fn ase_sets_in_on_the_gpu_as_on_the_cpu() {
    // The edge output across threshold, its collapse to a line on the biexciton side,
    // as tests/ase.rs checks on the CPU.
    let Some(gpu) = gpu() else { return };
    let look = |factor: f64| {
        let c = stripe(factor * THRESHOLD_UJ_CM2, 20.0, 2021);
        let setup = AseSetup::from_config(&c).unwrap();
        let out = on_gpu(&gpu, &c, 0);
        let nm = setup.spectrum.centres_nm();
        let edge = out.tally.spectrum_of(Exit::Detector);
        let photons: f64 = edge.iter().sum();
        let (peak, fwhm) = peak_and_fwhm(&nm, edge).unwrap();
        println!(
            "{factor}× threshold on the GPU: edge {photons:.3e} photons, peak {peak:.1} nm, FWHM {fwhm:.1} nm"
        );
        (photons, peak, fwhm)
    };
    let half = look(0.5);
    let double = look(2.0);
    let slope = (double.0 / half.0).ln() / 4f64.ln();
    assert!(slope > 5.0, "log-log slope {slope:.2} across threshold");
    assert!(
        double.2 <= 0.5 * half.2,
        "FWHM {:.1} nm above vs {:.1} nm below",
        double.2,
        half.2
    );
    let e0 = asemc::units::HC_EV_NM / 480.0;
    let biexciton_nm = asemc::units::HC_EV_NM / (e0 - 0.027);
    assert!(
        double.1 >= 482.5 && (double.1 - biexciton_nm).abs() <= 3.5,
        "edge peak {:.1} nm above threshold (biexciton line {biexciton_nm:.1} nm)",
        double.1
    );
}

#[test]
fn above_threshold_the_gpu_and_cpu_backends_agree_within_3_sigma() {
    // Above threshold each booked exciton changes the gain the next packets see, so
    // the GPU's single precision sends a run down another path than the CPU's: the
    // backends must agree in distribution. Five seeds each at twice the threshold.
    let Some(gpu) = gpu() else { return };
    let seeds = [11u64, 12, 13, 14, 15];
    let mut results = [Vec::new(), Vec::new()];
    for &seed in &seeds {
        let c = stripe(2.0 * THRESHOLD_UJ_CM2, 3.0, seed);
        let runs = [on_cpu(&c, 0), on_gpu(&gpu, &c, 0)];
        for (k, out) in runs.into_iter().enumerate() {
            let l = &out.ledger;
            results[k].push([
                l.exits[Exit::Detector as usize],
                l.stimulated,
                l.exits[Exit::Surface as usize],
            ]);
        }
    }
    for (q, name) in ["edge photons", "stimulated photons", "surface photons"]
        .iter()
        .enumerate()
    {
        let stats = |k: usize| mean_and_error(&results[k].iter().map(|r| r[q]).collect::<Vec<_>>());
        let (c, c_err) = stats(0);
        assert!(c > 0.0);
        let (g, g_err) = stats(1);
        println!("{name}: gpu {g:.4e} ± {g_err:.2e}, cpu {c:.4e} ± {c_err:.2e}");
        assert!(g > 0.0);
        assert_within_sigma(name, g, (g_err * g_err + c_err * c_err).sqrt(), c, 3.0);
    }
}

#[test]
fn small_signal_vsl_on_the_gpu_returns_the_configured_gain_and_the_cpus_output() {
    let Some(gpu) = gpu() else { return };
    let resolved = load(&configs_dir().join("validation/vsl_small_signal.toml"), &[]).unwrap();
    let mut lengths = Vec::new();
    let mut output = Vec::new();
    // The CPU's output at two lengths, with the scatter of its steady-state trace.
    let compare = [0usize, resolved.points.len() - 1];
    for (i, c) in resolved.points.iter().enumerate() {
        let setup = AseSetup::from_config(c).unwrap();
        let steady = |out: &AseOutput| -> (f64, f64) {
            let trace = out.tally.trace_of(Exit::Detector);
            let bin_ps = setup.duration_ps / trace.len() as f64;
            let bins: Vec<f64> = trace
                .iter()
                .enumerate()
                .filter(|(k, _)| *k as f64 * bin_ps >= STEADY_FROM_PS)
                .map(|(_, v)| *v)
                .collect();
            let (mean, err) = mean_and_error(&bins);
            (mean * bins.len() as f64, err * bins.len() as f64)
        };
        let (g, g_err) = steady(&on_gpu(&gpu, c, i as u32));
        if compare.contains(&i) {
            let (cpu, cpu_err) = steady(&on_cpu(c, i as u32));
            println!("L point {i}: gpu {g:.6e} ± {g_err:.2e}, cpu {cpu:.6e} ± {cpu_err:.2e}");
            assert_within_sigma(
                "steady edge output",
                g,
                (g_err * g_err + cpu_err * cpu_err).sqrt(),
                cpu,
                3.0,
            );
        }
        lengths.push(c.pump.as_ref().unwrap().stripe_length_um * 1e-4);
        output.push(g);
    }
    let configured = configured_gain(&resolved.points[0]);
    let fit = fit_vsl(&lengths, &output).expect("a VSL fit");
    common::assert_vsl_gain("GPU", &fit, configured, &resolved.points[0]);
}
