//! The `reveille` program, built inside the test crate so tests can run it as a real
//! process (`CARGO_BIN_EXE_reveille-under-test`) and kill it with SIGKILL.

fn main() {
    reveille::cli::main()
}
