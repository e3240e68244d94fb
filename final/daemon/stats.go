package daemon

import (
	"encoding/json"
	"net/http"
	"time"

	"minidocker/final/engine"
)

// statsJSON is one reading as the Engine API's StatsResponse shapes it;
// the docker CLI computes its columns from it (CPU % from cpu_stats and
// precpu_stats).
func statsJSON(id, name string, s, prev engine.StatsSample) map[string]any {
	cpu := func(x engine.StatsSample) map[string]any {
		return map[string]any{"cpu_usage": map[string]any{"total_usage": x.CPUUsage.Nanoseconds()},
			"system_cpu_usage": x.SystemUsage.Nanoseconds(), "online_cpus": x.OnlineCPUs}
	}
	return map[string]any{
		"id": id, "name": "/" + name, "read": s.Read, "preread": prev.Read,
		"cpu_stats": cpu(s), "precpu_stats": cpu(prev),
		"memory_stats": map[string]any{"usage": s.MemUsage, "limit": s.MemLimit, "stats": map[string]uint64{}},
		"networks":     map[string]any{"eth0": map[string]uint64{"rx_bytes": s.NetRx, "tx_bytes": s.NetTx}},
		"pids_stats":   map[string]uint64{"current": s.Pids, "limit": s.PidsLimit},
		// The docker CLI sums the entries by op, "read" and "write".
		"blkio_stats": map[string]any{"io_service_bytes_recursive": []map[string]any{
			{"major": 0, "minor": 0, "op": "read", "value": s.BlockRead},
			{"major": 0, "minor": 0, "op": "write", "value": s.BlockWrite}}},
		"num_procs": 0,
	}
}

// containerStats is GET /containers/{id}/stats: with stream=false one
// reading (two samples half a second apart for the CPU %, or one with
// one-shot=true), else one a second until the client goes or the
// container stops.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	stream := r.URL.Query().Get("stream") != "false" && r.URL.Query().Get("stream") != "0"
	prev, err := s.e.Stats(in.ID)
	if err != nil {
		return err
	}
	if !stream && !boolValue(r, "one-shot") {
		time.Sleep(500 * time.Millisecond)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	for {
		cur, err := s.e.Stats(in.ID)
		if err != nil {
			return nil // stopped: the stream ends
		}
		if err := enc.Encode(statsJSON(in.ID, in.Name[1:], cur, prev)); err != nil || !stream {
			return nil
		}
		rc.Flush()
		prev = cur
		select {
		case <-r.Context().Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}
