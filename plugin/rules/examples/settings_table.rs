//! Print every setting with its default as a Markdown table (for docs/configuring.md):
//! `cargo run -p cadre-rules --example settings_table`.

fn main() {
    println!("| Setting | Default | What it does |");
    println!("|---|---|---|");
    for setting in cadre_rules::Program::info().settings {
        let default = setting.default_value.replace('|', "\\|");
        println!("| `{}` | `{}` | {} |", setting.path, default, setting.description.replace('|', "\\|"));
    }
}
