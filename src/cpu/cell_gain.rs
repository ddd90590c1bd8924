//! Stage 2 on the CPU, twin of `shaders/cell_gain.wgsl`: the cells' gain spectra. The
//! host's spectra follow every change of a platelet's count as the other stages make
//! it (`platelets::CellGain::change`); every `ase::engine::GAIN_REFRESH_STEPS` steps they are
//! recomputed from the counts, before the step's first stage, which clears the
//! rounding drift of the incremental updates.

use crate::ase::books::Span;
use crate::ase::engine::refresh_due;
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;

/// Recompute the spectra from every count where `span` is a step of the refresh.
pub fn refresh(setup: &AseSetup, film: &mut Film, span: Span) {
    if refresh_due(span) {
        film.recompute_gain(setup);
    }
}
