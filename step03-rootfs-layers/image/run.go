package image

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Command is what docker run executes: Entrypoint followed by Cmd. A
// command given on the command line replaces the image's Cmd (not its
// Entrypoint); --entrypoint replaces the Entrypoint and, as in Docker,
// drops the image's Cmd ("" clears the Entrypoint). entrypoint is nil when
// --entrypoint was not given.
func Command(cfg ocispec.ImageConfig, entrypoint *string, args []string) ([]string, error) {
	ep, cmd := cfg.Entrypoint, cfg.Cmd
	if entrypoint != nil {
		ep, cmd = nil, nil
		if *entrypoint != "" {
			ep = []string{*entrypoint}
		}
	}
	if len(args) > 0 {
		cmd = args
	}
	out := append(append([]string{}, ep...), cmd...)
	if len(out) == 0 {
		return nil, ErrNoCommand
	}
	return out, nil
}
