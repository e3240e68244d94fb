package cli

import (
	"log"

	"github.com/spf13/cobra"

	"minidocker/final/daemon"
	"minidocker/final/engine"
	"minidocker/step05-pull/fetch"
)

// DefaultHost is where the daemon listens unless -H says otherwise.
const DefaultHost = "unix:///var/run/minidocker.sock"

func (a *app) daemonCmd() *cobra.Command {
	var reg fetch.Flags
	c := &cobra.Command{
		Use:   "daemon [OPTIONS]",
		Short: "Serve the Docker Engine API on a unix socket, for the docker CLI and the SDKs",
		Long: "Serve the Docker Engine API on a unix socket (mode 0660), so that the docker CLI\n" +
			"(DOCKER_HOST=unix:///var/run/minidocker.sock docker ps) and the SDKs drive minidocker.\n" +
			"Same data root and engine as the other commands; containers belong to their monitors\n" +
			"and outlive the daemon. SIGTERM or SIGINT stops it.",
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			// -H is the global flag: for the other commands the daemon to
			// talk to, for this one the socket to serve (as dockerd's -H).
			host := a.host
			if host == "" {
				host = DefaultHost
			}
			// The daemon is the engine itself, whatever -H says.
			e, err := engine.Open(a.root)
			if err != nil {
				return err
			}
			logger := log.New(a.stderr, "minidocker daemon: ", log.LstdFlags)
			ln, err := daemon.ListenHost(host, logger)
			if err != nil {
				return err
			}
			logger.Printf("API %s listening on %s (data root %s)", daemon.APIVersion, host, a.root)
			// As dockerd at its start: the containers a reboot (or a
			// killed monitor) took down come back, as their policy says.
			go func() {
				names, err := e.StartRestartable()
				for _, n := range names {
					logger.Printf("container %s: started again (restart policy)", n)
				}
				if err != nil {
					logger.Printf("restart policies: %v", err)
				}
			}()
			return daemon.Serve(a.ctx, ln, daemon.New(e, a.pullOptions(&reg), logger), logger)
		},
	}
	registryFlags(c.Flags(), &reg, false)
	return c
}
