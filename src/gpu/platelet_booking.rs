//! The host's side of `shaders/platelet_booking.wgsl`: the booking of whole excitons
//! against the sampled platelets (the device's [`crate::ase::exchange::Booking`]), one
//! workgroup per listed cell, and what each cell then holds.

use super::platelet_decay::DecayParams;
use super::platelets::{GpuPlatelets, summary};
/// The structs this kernel shares with the host (`BookingParams`, `GpuOrder`, `CellBooked`), defined
/// once in `gpu::shared`.
pub use super::shared::{BookingParams, CellBooked, GpuOrder};
use crate::ase::AseSetup;
use crate::ase::CellSummary;
use crate::ase::exchange::Order;
use crate::error::{Error, Result};
use crate::rng::Purpose;

impl BookingParams {
    /// The parameters of `setup` that hold for every dispatch, the seed, samples,
    /// degeneracy and rates as the loss events' `params` have them.
    pub(super) fn new(setup: &AseSetup, params: &DecayParams) -> Self {
        let optics = &setup.optics;
        BookingParams {
            seed_lo: params.seed_lo,
            seed_hi: params.seed_hi,
            samples: params.samples,
            degeneracy: params.degeneracy,
            k_nonrad: params.k_nonrad,
            k_xx: params.k_xx,
            inv_hwhm: (1.0 / optics.line.hwhm_ev) as f32,
            biexciton_shift_ev: optics.biexciton_shift_ev as f32,
            ..BookingParams::default()
        }
    }
}

impl GpuOrder {
    /// `order` for platelets whose mean transition energy is `mean_ev`.
    pub fn new(order: &Order, mean_ev: f64) -> Self {
        Self {
            energy: (order.energy_ev - mean_ev) as f32,
            kind: order.kind as u32,
            count: order.count,
            _pad0: 0,
        }
    }
}

/// Orders a cell can have in one booking: two a bin (stimulated and absorbed), or one
/// (radiative).
pub(super) fn orders_per_cell(setup: &AseSetup) -> usize {
    2 * setup.spectrum.bins
}

/// What a booking did: what each listed cell then holds and the excitons its orders
/// moved, and each order's excitons that could not be moved.
pub type Booked = (Vec<(CellSummary, u64)>, Vec<u32>);

impl GpuPlatelets<'_> {
    /// Book `orders` at time `t_now` of step `step` of sweep point `point`, on streams of
    /// `purpose` ([`Purpose::Exchange`] or [`Purpose::Radiative`]): the k-th of `cells`
    /// has `orders[first[k]..first[k + 1]]`, booked in order. Returns each listed cell's
    /// [`CellBooked`], in order, and each order's excitons that could not be moved
    /// (every platelet's weight zero).
    #[allow(clippy::too_many_arguments)]
    pub fn book(
        &self,
        purpose: Purpose,
        point: u32,
        step: u32,
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[GpuOrder],
    ) -> Result<(Vec<CellBooked>, Vec<u32>)> {
        let gpu = self.gpu;
        let fault = |what: String| {
            Err(Error::Runtime(format!(
                "GPU {}: booking: {what}",
                gpu.info.name
            )))
        };
        if first.len() != cells.len() + 1 || first.last() != Some(&(orders.len() as u32)) {
            return fault(format!(
                "{} cells, {} order bounds, {} orders",
                cells.len(),
                first.len(),
                orders.len()
            ));
        }
        if orders.len() > self.orders_capacity || cells.len() > self.cells {
            return fault(format!(
                "{} orders on {} cells, more than the {} it holds",
                orders.len(),
                cells.len(),
                self.orders_capacity
            ));
        }
        // Each cell's summary and moves, and each order's excitons left, as the
        // dispatches book them; a workgroup that stops leaves the rest of its cell's
        // orders to the next dispatch.
        let mut booked: Vec<CellBooked> = vec![CellBooked::default(); cells.len()];
        let mut left: Vec<u32> = orders.iter().map(|o| o.count).collect();
        // What is still to book: (index among `cells`, the cell's first order not done).
        let mut todo: Vec<(usize, usize)> =
            (0..cells.len()).map(|k| (k, first[k] as usize)).collect();
        let mut part = 0;
        while !todo.is_empty() {
            let listed: Vec<u32> = todo.iter().map(|&(k, _)| cells[k]).collect();
            let mut part_first = vec![0u32];
            let mut part_orders = Vec::new();
            for &(k, from) in &todo {
                part_orders.extend((from..first[k + 1] as usize).map(|o| GpuOrder {
                    count: left[o],
                    ..orders[o]
                }));
                part_first.push(part_orders.len() as u32);
            }
            let params = BookingParams {
                point,
                step,
                purpose: purpose as u32,
                t_now: t_now as f32,
                part,
                ..self.booking
            };
            let (done, part_left) = self.book_part(params, (&listed, &part_first, &part_orders))?;
            let mut next = Vec::new();
            for ((&(k, from), d), bounds) in todo.iter().zip(&done).zip(part_first.windows(2)) {
                // The orders booked or begun; those not begun keep their counts.
                let own = &part_left[bounds[0] as usize..bounds[1] as usize];
                let begun = if d.stopped == 0 {
                    own.len()
                } else {
                    d.stopped as usize
                };
                left[from..from + begun].copy_from_slice(&own[..begun]);
                let moved = booked[k].moved + d.moved;
                booked[k] = CellBooked { moved, ..*d };
                if d.stopped != 0 {
                    next.push((k, from + d.stopped as usize - 1));
                }
            }
            todo = next;
            part += 1;
        }
        // Every cell's last dispatch booked the rest of its orders: `stopped` is 0.
        Ok((booked, left))
    }

    /// The dispatches of one part of a booking (see `book`), `params` set for the part
    /// (its point, step, purpose, time and number): the k-th of `cells` has
    /// `orders[first[k]..first[k + 1]]`. As many cells at a time as hold
    /// [`MAX_PLATELETS`](super::platelets::MAX_PLATELETS) platelets (at least one), as
    /// the loss events are dispatched. Returns each cell's [`CellBooked`] and each
    /// order's excitons left, in order.
    fn book_part(
        &self,
        params: BookingParams,
        (cells, first, orders): (&[u32], &[u32], &[GpuOrder]),
    ) -> Result<(Vec<CellBooked>, Vec<u32>)> {
        let gpu = self.gpu;
        let per_dispatch = self.cells_per_dispatch();
        let (mut booked, mut left) = (Vec::with_capacity(cells.len()), Vec::new());
        for (b, batch) in cells.chunks(per_dispatch).enumerate() {
            let k0 = b * per_dispatch;
            let bounds = &first[k0..=k0 + batch.len()];
            let own = &orders[bounds[0] as usize..bounds[batch.len()] as usize];
            let starts: Vec<u32> = bounds.iter().map(|&f| f - bounds[0]).collect();
            gpu.write(&self.dispatched, bytemuck::cast_slice(batch));
            gpu.write(&self.first, bytemuck::cast_slice(&starts));
            gpu.write(&self.orders, bytemuck::cast_slice(own));
            let params = BookingParams {
                count: batch.len() as u32,
                ..params
            };
            let size = (batch.len() * std::mem::size_of::<CellBooked>()) as u64;
            self.run_kernel(
                "platelet booking",
                &self.booking_pipeline,
                &params,
                &[
                    &self.counts,
                    &self.next,
                    &self.energy,
                    &self.dispatched,
                    &self.first,
                    &self.orders,
                    &self.left,
                    &self.booked,
                ],
                batch.len() as u32,
                &[
                    (&self.booked, &self.booked_back, size),
                    (&self.left, &self.left_back, 4 * own.len() as u64),
                ],
                |bytes| {
                    booked.extend_from_slice(bytemuck::cast_slice::<u8, CellBooked>(bytes[0]));
                    left.extend_from_slice(bytemuck::cast_slice::<u8, u32>(bytes[1]));
                },
            )?;
        }
        Ok((booked, left))
    }
}

/// The device's booking in the host's terms: cell summaries.
impl GpuPlatelets<'_> {
    /// Book `orders` at `t_now` on streams of `purpose` of (point, step): the k-th of
    /// `cells` has `orders[first[k]..first[k + 1]]`, booked in order. Returns what each
    /// cell then holds and the excitons its orders moved, and each order's excitons
    /// that could not be moved.
    #[allow(clippy::too_many_arguments)]
    pub fn book_summaries(
        &mut self,
        purpose: Purpose,
        (point, step): (u32, u32),
        t_now: f64,
        cells: &[u32],
        first: &[u32],
        orders: &[Order],
    ) -> Result<Booked> {
        let orders: Vec<GpuOrder> = orders
            .iter()
            .map(|o| GpuOrder::new(o, self.mean_ev))
            .collect();
        let (booked, left) =
            GpuPlatelets::book(self, purpose, point, step, t_now, cells, first, &orders)?;
        let booked = booked
            .into_iter()
            .map(|b| (summary(b.excitons, b.room, b.next), u64::from(b.moved)))
            .collect();
        Ok((booked, left))
    }
}
