//! The ews-kit command line.

fn main() {
    println!("ews-kit");
}
