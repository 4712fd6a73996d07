//! The demo tenant's flows (the gas company's hotline), as JSON kept beside the crate
//! (`flows/*.json`): seeded at first start and used by the tests.

use crate::model::Flow;

/// The main hotline flow (96777): 1 business information, 2 bill query, 3 fault report (gas leak →
/// emergency queue at top priority; other faults → recording + work order + SMS), 4 order status,
/// 5 complaints and suggestions, 6 fax-on-demand, 0 agent; a survey after agent calls.
pub const MAIN_JSON: &str = include_str!("../flows/main.json");

pub fn main_flow() -> Flow {
    Flow::from_json(MAIN_JSON).expect("flows/main.json is a valid flow (tested)")
}
