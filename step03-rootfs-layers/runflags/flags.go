// Package runflags declares step 3's docker-run-like flags (-v, -e, -w,
// --user, --hostname, --init, --root) into a demo's flag.FlagSet: the
// flags live at the edges, so this is the demos' package, not the
// library's; step 3's demo and every later one import it (final declares
// its own with cobra).
package runflags

import (
	"flag"

	"minidocker/internal/stepcli"
	"minidocker/step03-rootfs-layers/rootfs"
)

// Declare declares step 3's docker-run-like flags into f; root is the
// default data directory.
func Declare(fs *flag.FlagSet, f *rootfs.RunFlags, root string) {
	fs.Var((*stepcli.Strings)(&f.Volumes), "v", "bind mount a volume `SRC:DST[:ro]` (repeatable)")
	fs.Var((*stepcli.Strings)(&f.Env), "e", "set an environment variable `KEY=VAL` (repeatable)")
	fs.StringVar(&f.Dir, "w", "", "working `DIR`ectory inside the container (default: the image's)")
	fs.StringVar(&f.User, "user", "", "run as `USER[:GROUP]` from the image's /etc/passwd (default: the image's)")
	fs.StringVar(&f.Hostname, "hostname", "", "the container's host `name` (default: the short container ID)")
	fs.BoolVar(&f.Init, "init", false, "run a minimal init as PID 1")
	fs.StringVar(&f.Root, "root", root, "data `DIR`ectory for images, layers and containers")
}
