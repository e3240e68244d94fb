package network_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"minidocker/step06-networking/network"
)

// BenchmarkAttachDetach measures one container's Attach + Detach (no
// published ports) on an existing bridge; it also reports the median, the
// figure the course quotes (target: under 20 ms). The state lives on tmpfs,
// as it does under the run root (/run/minidocker/network).
func BenchmarkAttachDetach(b *testing.B) {
	root, err := os.MkdirTemp("/dev/shm", "minidocker-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(root) })
	n := newNetworkIn(b, root)
	s := newNS(b)
	id := containerID(b)
	var total, attach, detach []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := n.Attach(context.Background(), id, s.path, network.AttachOptions{}); err != nil {
			b.Fatal(err)
		}
		attached := time.Now()
		if err := n.Detach(id); err != nil {
			b.Fatal(err)
		}
		total = append(total, time.Since(start))
		attach = append(attach, attached.Sub(start))
		detach = append(detach, time.Since(attached))
	}
	b.ReportMetric(median(total), "ms/median")
	b.ReportMetric(median(attach), "attach-ms/median")
	b.ReportMetric(median(detach), "detach-ms/median")
}

func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}
