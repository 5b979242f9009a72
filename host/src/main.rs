fn main() {
    reveille::cli::main()
}
