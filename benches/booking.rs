//! Booking throughput.
fn main() {}
