//! One point of the ASE engine on the CPU: the sampled platelets with the cells' gain
//! spectra, and the host's books; each stage of [`Stages`] is the function of the same
//! name in `src/cpu/`.

use super::{
    ase_transport, cell_gain, platelet_booking, platelet_decay, spontaneous_emission, tallies,
};
use crate::ase::books::{AseOutput, Books, Span};
use crate::ase::engine::Stages;
use crate::ase::platelets::Film;
use crate::ase::setup::AseSetup;
use crate::error::Result;

/// A point's state on the CPU.
pub struct CpuAse<'s> {
    setup: &'s AseSetup,
    film: Film,
    books: Books,
}

impl<'s> CpuAse<'s> {
    /// Sweep point `point` of `setup`, its film sampled and excited by the pump.
    pub fn new(setup: &'s AseSetup, point: u32) -> Self {
        let film = Film::sample(setup, point);
        let books = Books::new(setup, &film);
        Self { setup, film, books }
    }
}

impl Stages for CpuAse<'_> {
    fn spontaneous_emission(&mut self, span: Span) -> Result<()> {
        cell_gain::refresh(self.setup, &mut self.film, span);
        spontaneous_emission::spontaneous_emission(self.setup, &self.film, &mut self.books, span);
        Ok(())
    }

    fn platelet_decay(&mut self, span: Span) -> Result<()> {
        platelet_decay::platelet_decay(self.setup, &mut self.film, &mut self.books, span);
        Ok(())
    }

    fn cell_gain(&mut self, _span: Span) -> Result<()> {
        // The host's spectra follow every change of a count as it is made.
        Ok(())
    }

    fn ase_transport(&mut self, span: Span) -> Result<f64> {
        Ok(ase_transport::ase_transport(
            self.setup,
            &self.film,
            &mut self.books,
            span,
        ))
    }

    fn platelet_booking(&mut self, span: Span) -> Result<()> {
        platelet_booking::platelet_booking(self.setup, &mut self.film, &mut self.books, span);
        Ok(())
    }

    fn tallies(&mut self, span: Span) -> Result<()> {
        tallies::tallies(self.setup, &self.film, &mut self.books, span);
        Ok(())
    }

    fn finish(&mut self, steps: u64) -> Result<AseOutput> {
        Ok(self.books.output(self.setup, &self.film, steps))
    }
}
