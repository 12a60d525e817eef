#!/bin/sh
# Installs what scripts/gen_docs.py wrote into the build's man/ directory:
# homing.1, one homing-COMMAND.1 per command, homing.conf.5, and the bash and
# zsh completion. Called by `meson install` with the build's man/ directory,
# mandir and datadir (relative to the prefix, or absolute).
set -eu
built=$1 mandir=$2 datadir=$3
case $mandir in /*) ;; *) mandir=$MESON_INSTALL_PREFIX/$mandir ;; esac
case $datadir in /*) ;; *) datadir=$MESON_INSTALL_PREFIX/$datadir ;; esac
dest=${DESTDIR:-}
install -d "$dest$mandir/man1" "$dest$mandir/man5" \
  "$dest$datadir/bash-completion/completions" "$dest$datadir/zsh/vendor-completions"
for p in "$built"/homing.1 "$built"/homing-*.1; do
  install -m 644 "$p" "$dest$mandir/man1/"
done
install -m 644 "$built/homing.conf.5" "$dest$mandir/man5/"
install -m 644 "$built/homing.bash" "$dest$datadir/bash-completion/completions/homing"
install -m 644 "$built/_homing" "$dest$datadir/zsh/vendor-completions/_homing"
