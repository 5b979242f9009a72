//! Incidents: alerts that share a cause, told once. A groupable alert (a parent's symptom
//! on one of its children, or a check configured to group) waits a moment before it is
//! announced; the clockwork then looks at everything waiting and every open incident and
//! decides here, purely: whether the cause is real (most of a parent's children failing,
//! the parent itself failing, or a check firing on enough installations within its window),
//! which alerts join which incident, which are announced on their own after all, and what
//! each incident's living messages must now show. An incident whose parent came back asks
//! for its children still down to be probed again, and only after that grace turns those
//! still failing into alerts of their own: nobody gets a "problem" and a "resolved" for a
//! child whose parent blinked.

mod acts;
mod model;
mod review;

pub use acts::{acknowledge, escalate, snooze, subject_of, update};
pub use model::{
    Follow, Incident, IncidentDecision, IncidentDestination, IncidentFields, IncidentState, Member,
    Reach, Target, Update,
};
pub use review::{ParentHealth, Review, Waiting, review};

/// The longest update (and post-mortem section) people may write, in characters.
pub const MAX_UPDATE: usize = 20_000;
