//go:build linux

package main

import (
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"

	"minidocker/final/engine"
	"minidocker/internal/testkit"
	"minidocker/step06-networking/network"
)

// reportMedian reports the median of the samples, in µs.
func reportMedian(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "µs-median")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds())/1e3, "µs-p99")
}

// dialIn opens a UDP socket inside the network namespace of process pid,
// connected to addr: what a program in that container would send from.
func dialIn(b *testing.B, pid int, addr string) net.Conn {
	b.Helper()
	target, err := netns.GetFromPath(network.NetNSPath(pid))
	require.NoError(b, err)
	defer target.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	origin, err := netns.Get()
	require.NoError(b, err)
	defer origin.Close()
	require.NoError(b, netns.Set(target))
	conn, err := net.Dial("udp4", addr)
	require.NoError(b, netns.Set(origin))
	require.NoError(b, err)
	return conn
}

// BenchmarkNameResolution: one A query for a container's name (another
// container on the same user network), sent from inside a container's
// network namespace to its embedded DNS server at 127.0.0.11, and the
// answer read. Run it with -benchtime 1000x for the median of 1,000.
func BenchmarkNameResolution(b *testing.B) {
	w := newWorld(b)
	w.ok("pull", "busybox")
	w.userNetwork("bench", "--subnet", testkit.FreeSubnet(b, 25).String())
	w.ok("run", "-d", "--name", "db", "--network", "bench", "busybox", "sleep", "1000")
	w.ok("run", "-d", "--name", "client", "--network", "bench", "busybox", "sleep", "1000")
	c := &dns.Conn{Conn: dialIn(b, int(w.state("client")["Pid"].(float64)), "127.0.0.11:53")}
	defer c.Close()
	q := new(dns.Msg).SetQuestion("db.", dns.TypeA)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		c.SetDeadline(start.Add(5 * time.Second))
		require.NoError(b, c.WriteMsg(q))
		r, err := c.ReadMsg()
		samples = append(samples, time.Since(start))
		require.NoError(b, err)
		require.Len(b, r.Answer, 1)
	}
	b.StopTimer()
	reportMedian(b, samples)
}

// BenchmarkNetworkCreateRemove: docker network create and rm, with the
// bridge, its rules and its book made and deleted: "engine" in this
// process (the engine's own cost), "cli" as the minidocker command (a
// process each, as a user runs them).
func BenchmarkNetworkCreateRemove(b *testing.B) {
	w := newWorld(b)
	subnet := testkit.FreeSubnet(b, 25).String()
	b.Run("engine", func(b *testing.B) {
		for _, kv := range w.env {
			if k, v, ok := strings.Cut(kv, "="); ok {
				b.Setenv(k, v)
			}
		}
		e, err := engine.Open(w.root)
		require.NoError(b, err)
		samples := make([]time.Duration, 0, b.N)
		for range b.N {
			start := time.Now()
			_, err := e.CreateNetwork("nb", engine.NetworkCreateOptions{Subnet: subnet})
			require.NoError(b, err)
			require.NoError(b, e.RemoveNetwork("nb"))
			samples = append(samples, time.Since(start))
		}
		reportMedian(b, samples)
	})
	b.Run("cli", func(b *testing.B) {
		samples := make([]time.Duration, 0, b.N)
		for range b.N {
			start := time.Now()
			w.ok("network", "create", "--subnet", subnet, "nb")
			w.ok("network", "rm", "nb")
			samples = append(samples, time.Since(start))
		}
		reportMedian(b, samples)
	})
}
