//! `shopsync keygen`: writes a new master key file (base64, mode 0600). The
//! key itself is never printed.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::crypto::MasterKey;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the key. Refuses to replace an existing file unless
    /// --force is given (replacing a key in use makes its data unreadable).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &KeygenArgs) -> anyhow::Result<()> {
    let (contents, id) = MasterKey::generate_file_contents()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(&args.out) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists; it may be the key your data is encrypted with. Choose another path, or pass --force to replace it",
            args.out.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("creating {}", args.out.display())),
    };
    // An existing file keeps its old mode when truncated; tighten it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("setting mode 0600 on {}", args.out.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote master key {id} to {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_loadable_0600_key_and_refuses_to_overwrite() {
        let dir = std::env::temp_dir().join(format!("shopsync-keygen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("master.key");
        let _ = std::fs::remove_file(&out);
        let args = KeygenArgs {
            out: out.clone(),
            force: false,
        };
        run(&args).unwrap();
        let first = MasterKey::load(&out).unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("--force"), "{err}");
        assert_eq!(
            MasterKey::load(&out).unwrap().id(),
            first.id(),
            "the old key is untouched"
        );

        run(&KeygenArgs {
            out: out.clone(),
            force: true,
        })
        .unwrap();
        assert_ne!(MasterKey::load(&out).unwrap().id(), first.id());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
