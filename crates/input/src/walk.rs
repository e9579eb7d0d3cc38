//! Turning paths into inputs: folders walked in a stable order,
//! documentation passed over, walk errors reported.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::{Input, Problem};

/// How to walk folders. Files named directly are always taken; files found
/// while walking a folder are taken unless they are documentation
/// ([`is_documentation`]), lie under a folder [`Walk::skip_folder`] names,
/// or fail [`Walk::keep`].
#[derive(Clone, Copy)]
pub struct Walk {
    skip_folders: &'static [&'static str],
    keep: fn(&Path) -> bool,
}

impl Default for Walk {
    fn default() -> Self {
        Walk::new()
    }
}

impl std::fmt::Debug for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk")
            .field("skip_folders", &self.skip_folders)
            .finish_non_exhaustive()
    }
}

impl Walk {
    /// Every file but documentation.
    pub fn new() -> Walk {
        Walk {
            skip_folders: &[],
            keep: |_| true,
        }
    }

    /// Also passes over folders with these names (Maildir's `tmp`, which
    /// holds messages still being written).
    pub fn skip_folder(mut self, names: &'static [&'static str]) -> Walk {
        self.skip_folders = names;
        self
    }

    /// Takes only the files found while walking for which `keep` holds
    /// (rule loaders keep `.yml` files).
    pub fn keep(mut self, keep: fn(&Path) -> bool) -> Walk {
        self.keep = keep;
        self
    }

    /// Expands paths into inputs: folders recursively (sorted by name, links
    /// followed), `-` as standard input. A path that does not exist or a
    /// folder entry that cannot be read becomes a problem; the rest goes on.
    pub fn expand(&self, paths: &[PathBuf]) -> (Vec<Input>, Vec<Problem>) {
        let mut inputs = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            if path.as_os_str() == "-" {
                inputs.push(Input::Stdin);
            } else if !path.exists() {
                problems.push(Problem::new(
                    path.display().to_string(),
                    "no such file or directory",
                ));
            } else if path.is_dir() {
                self.walk(path, &mut inputs, &mut problems);
            } else {
                inputs.push(Input::File(path.clone()));
            }
        }
        (inputs, problems)
    }

    fn walk(&self, root: &Path, inputs: &mut Vec<Input>, problems: &mut Vec<Problem>) {
        let entries = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_dir()
                    || !self.skip_folders.iter().any(|s| e.file_name() == *s)
            });
        for entry in entries {
            match entry {
                Ok(e)
                    if e.file_type().is_file()
                        && !is_documentation(e.file_name())
                        && (self.keep)(e.path()) =>
                {
                    inputs.push(Input::File(e.into_path()))
                }
                Ok(_) => {}
                Err(e) => problems.push(Problem::new(
                    e.path().unwrap_or(root).display().to_string(),
                    e.to_string(),
                )),
            }
        }
    }
}

/// [`Walk::new`]`.expand(paths)`: every file but documentation.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<Problem>) {
    Walk::new().expand(paths)
}

/// Whether a file found while walking a folder is documentation rather than
/// data (`README*`, `LICENSE*`, `LICENCE*`, `NOTICE*`, `COPYING*`, `*.md`,
/// hidden files). Files named directly are always read.
pub fn is_documentation(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    let upper = name.to_ascii_uppercase();
    name.starts_with('.')
        || upper.ends_with(".MD")
        || ["README", "LICENSE", "LICENCE", "NOTICE", "COPYING"]
            .iter()
            .any(|p| upper.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(inputs: &[Input]) -> Vec<String> {
        inputs
            .iter()
            .map(|i| i.name().rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn folders_skip_documentation_but_named_files_are_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["README.md", "LICENSE.OTRF", "notes.md", ".hidden", "a.log"] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        let (inputs, problems) = expand(&[dir.path().to_owned(), dir.path().join("LICENSE.OTRF")]);
        assert!(problems.is_empty());
        assert_eq!(names(&inputs), ["a.log", "LICENSE.OTRF"]);
    }

    #[test]
    fn skipped_folders_kept_files_and_missing_paths() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["cur/1", "tmp/2", "new/3.yml", "b.yml"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, "x").expect("write");
        }
        let maildir = Walk::new().skip_folder(&["tmp"]);
        let (inputs, _) = maildir.expand(&[dir.path().to_owned()]);
        assert_eq!(names(&inputs), ["b.yml", "1", "3.yml"]);
        let yaml = Walk::new().keep(|p| p.extension().is_some_and(|e| e == "yml"));
        let (inputs, problems) = yaml.expand(&[dir.path().to_owned(), dir.path().join("gone")]);
        assert_eq!(names(&inputs), ["b.yml", "3.yml"]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .to_string()
                .ends_with("gone: no such file or directory")
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_folder_is_a_problem_not_a_silence() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).expect("mkdir");
        std::fs::write(locked.join("x.log"), "x").expect("write");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        let readable = std::fs::read_dir(&locked).is_ok();
        let (_, problems) = expand(&[dir.path().to_owned()]);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        // root reads every folder whatever its mode; then there is nothing
        // to report.
        assert_eq!(problems.len(), usize::from(!readable), "{problems:?}");
    }
}
