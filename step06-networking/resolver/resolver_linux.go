package resolver

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
)

// ListenIn opens the server's UDP and TCP sockets on addr ("127.0.0.11:53")
// inside the network namespace at nsPath (/proc/<pid>/ns/net): the calling
// goroutine's thread enters it, makes the sockets, and comes back. The
// sockets stay the namespace's.
func ListenIn(nsPath, addr string) (_ net.PacketConn, _ net.Listener, err error) {
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: open netns %s: %w", nsPath, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, nil, fmt.Errorf("dns: our netns: %w", err)
	}
	defer origin.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return nil, nil, fmt.Errorf("dns: enter netns %s: %w", nsPath, err)
	}
	defer func() {
		if serr := netns.Set(origin); serr != nil {
			// This thread is in the wrong namespace: let it die with the
			// goroutine rather than serve anyone else (no unlock).
			err = errors.Join(err, fmt.Errorf("dns: back to our netns: %w", serr))
			return
		}
		runtime.UnlockOSThread()
	}()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: listen udp %s in %s: %w", addr, nsPath, err)
	}
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		pc.Close()
		return nil, nil, fmt.Errorf("dns: listen tcp %s in %s: %w", addr, nsPath, err)
	}
	return pc, l, nil
}
