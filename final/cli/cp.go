package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) cpCmd() *cobra.Command {
	var followLink bool
	c := &cobra.Command{
		Use:   "cp CONTAINER:SRC_PATH DEST_PATH | SRC_PATH CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: "Copy between a container (running or stopped) and the host, with docker cp's rules: into an existing\n" +
			"directory as DEST/base(SRC), SRC/. for a directory's contents, DEST/ must exist. Paths in the container\n" +
			"are resolved as the container resolves them: its symbolic links never lead out of it. With -H, through\n" +
			"the daemon's archive endpoints (/containers/{id}/archive), as the docker CLI copies.",
		Example: "  minidocker cp web:/etc/hostname .\n  minidocker cp ./site web:/usr/local/apache2/htdocs",
		Args:    exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			from, fromPath, fromCtr := splitCp(args[0])
			to, toPath, toCtr := splitCp(args[1])
			switch {
			case fromCtr && toCtr:
				return errors.New("copying between containers is not supported")
			case fromCtr:
				return e.CopyFromContainer(from, fromPath, args[1], followLink)
			case toCtr:
				return e.CopyToContainer(to, args[0], toPath)
			}
			return errors.New("must specify at least one container source")
		},
	}
	c.Flags().BoolVarP(&followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	return c
}

// splitCp reads CONTAINER:PATH (a path with no colon before its first
// slash is the host's, as the docker CLI reads it).
func splitCp(arg string) (ctr, p string, ok bool) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg, false
	}
	ctr, p, ok = strings.Cut(arg, ":")
	if !ok || ctr == "" {
		return "", arg, false
	}
	return ctr, p, true
}
