//! Prints a digest of a file's model, one line per function of the file (its
//! name, execution space, span and a hash of its lowered body), then the
//! file's diagnostics: `model_dump FILE [-I DIR]...` (`MODEL_DUMP_HEADERS=1`:
//! the functions of its headers too). A development aid to compare two
//! builds of the front end on real code.
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, document};
use std::hash::{DefaultHasher, Hash, Hasher};

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let text = std::fs::read_to_string(&path).expect("read");
    let args: Vec<String> = std::env::args().skip(2).collect();
    let file = std::path::absolute(&path).expect("path");
    let opts = BuildOptions {
        path: Some(&file),
        flags: CompileFlags::from_args(&args, &std::env::current_dir().expect("cwd")),
        provider: &FsProvider,
        ..BuildOptions::default()
    };
    let doc = document::Document::new(text, 1);
    let model = build_model_cached(doc.text(), doc.syntax(), &opts, &mut ModelCache::default());
    let headers = std::env::var_os("MODEL_DUMP_HEADERS").is_some();
    for f in model
        .functions
        .iter()
        .filter(|f| headers || f.file.is_none())
    {
        let mut h = DefaultHasher::new();
        format!("{:?}", f.body).hash(&mut h);
        println!(
            "{}{} {:?} {}..{} body {:016x}",
            f.file
                .as_ref()
                .map(|p| format!("{}: ", p.display()))
                .unwrap_or_default(),
            f.name,
            f.exec,
            f.span.start,
            f.span.end,
            h.finish()
        );
    }
    println!(
        "globals {} consts {}",
        model.globals.len(),
        model.consts.len()
    );
    if let Ok(name) = std::env::var("MODEL_DUMP_BODY") {
        for f in model.functions.iter().filter(|f| f.name == name) {
            println!("{:#?}", f.body);
        }
    }
    for d in &model.diagnostics {
        println!("diag {:?} {} {}", d.span, d.code, d.message);
    }
}
