//! The fleet board's model, apart from its pages: one row per installation with its state
//! and what is wrong in words (`row.rs`, pure), kept in memory between changes to the
//! fleet (`kept.rs`), and cut for what a visitor asked (`view.rs`, pure): counts, a
//! search, an order, a page, or one line per client. `web::board` renders it.

mod kept;
mod row;
mod view;

pub use kept::{Kept, Rows};
pub use row::{Headline, Light, Row, Tag};
pub use view::{Ask, ClientLine, Counts, Cut, PAGE, Sort, cut};
