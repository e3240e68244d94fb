package rootfs

import (
	"encoding/json"
	"fmt"

	"minidocker/step02-namespaces/namespaces"
)

// Stage is step 3's part of the container's init: pass it to
// namespaces.Init, and put a Config in namespaces.Config.Stages[StageName].
var Stage = namespaces.Stage{
	Name:       StageName,
	MountsProc: true,
	Run: func(ns *namespaces.Config, raw json.RawMessage) error {
		var cfg Config
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		// The runtime checked these already; a config made by hand is
		// checked here, before anything is mounted.
		for key := range cfg.Sysctl {
			if err := CheckSysctl(key, ns.Has); err != nil {
				return err
			}
		}
		console, err := consoleConn(&cfg)
		if err != nil {
			return err
		}
		if err := Setup(&cfg, ns.Has(namespaces.Net)); err != nil {
			return err
		}
		if console != nil {
			return setupConsole(console, cfg.ConsoleRows, cfg.ConsoleCols)
		}
		return nil
	},
}

// SetConsole asks the container's init for a terminal (docker run -t): once
// its root filesystem is ready, it makes a pseudo-terminal from the
// container's own /dev/ptmx, makes the slave its stdin, stdout, stderr and
// controlling terminal, and sends the master to socket, a unix socket the
// caller listens on (see ReceiveConsole).
//
// Why inside? A pty opened on the host is /dev/pts/N of the host's devpts;
// the container has a devpts of its own (newinstance), where N does not
// exist, so tty(1), ttyname(3) and programs that reopen their terminal
// fail. runc does the same with its --console-socket.
//
// rows and cols (0: leave it 0x0) are the terminal's size: the init sets it
// before it sends the master, so the command never sees a 0x0 terminal
// (busybox's "stty size" fails on one). Whoever holds the master resizes it
// later (TIOCSWINSZ).
func SetConsole(cfg *namespaces.Config, socket string, rows, cols uint16) error {
	var c Config
	if err := json.Unmarshal(cfg.Stages[StageName], &c); err != nil {
		return err
	}
	c.ConsoleSocket, c.ConsoleRows, c.ConsoleCols = socket, rows, cols
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	cfg.Stages[StageName] = raw
	return nil
}
