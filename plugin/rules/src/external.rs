//! External events (contract 0.2.0): what a certification, an event attended or a renewal is worth.
use crate::model::ExternalEvent;
use crate::scoring::Ctx;

/// React to an external event.
pub(crate) fn external_event(_ctx: &mut Ctx<'_>, _event: &ExternalEvent) {}
