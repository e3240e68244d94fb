// Package fetchflags declares step 5's registry flags (--platform,
// --registry-mirror, --insecure-registry, --trace) into a demo's
// flag.FlagSet, for step 5's demo and the later ones.
package fetchflags

import (
	"flag"
	"os"

	"minidocker/internal/stepcli"
	"minidocker/step05-pull/fetch"
)

// Declare declares step 5's registry flags into f: --platform,
// --registry-mirror, --insecure-registry and --trace.
func Declare(fs *flag.FlagSet, f *fetch.Flags) {
	fs.StringVar(&f.Platform, "platform", "", "pull the image for `os/arch[/variant]` (default: this host's)")
	fs.StringVar(&f.Mirror, "registry-mirror", os.Getenv(fetch.MirrorEnv), "try this registry `URL` first for docker.io images (default $"+fetch.MirrorEnv+")")
	fs.Var((*stepcli.Strings)(&f.Insecure), "insecure-registry", "allow plain HTTP to this `host[:port]` (repeatable; localhost and 127.0.0.0/8 always are)")
	fs.BoolVar(&f.Trace, "trace", false, "print every HTTP request and response (tokens redacted) on stderr")
}
