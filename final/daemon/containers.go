package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step02-namespaces/privileges"
	"minidocker/step06-networking/portmap"
)

// createRequest is POST /containers/create's body: the Config fields at
// the top, the HostConfig beside them; the fields minidocker has.
type createRequest struct {
	Image        string
	Labels       map[string]string
	Env          []string
	Cmd          []string
	Entrypoint   []string
	WorkingDir   string
	User         string
	Hostname     string
	Tty          bool
	OpenStdin    bool
	StdinOnce    bool
	ExposedPorts map[string]struct{}
	Volumes      map[string]struct{} // -v /path: anonymous volumes
	HostConfig   struct {
		Binds          []string
		Mounts         []apiMount
		Tmpfs          map[string]string
		PortBindings   map[string][]struct{ HostIp, HostPort string }
		NetworkMode    string
		Dns            []string
		Memory         int64
		NanoCpus       int64
		CpuShares      int64
		PidsLimit      *int64
		AutoRemove     bool
		RestartPolicy  state.RestartPolicy
		Init           *bool
		Privileged     bool
		CapAdd         []string
		CapDrop        []string
		SecurityOpt    []string
		ReadonlyRootfs bool
		ConsoleSize    [2]uint // [rows, cols]: the client's terminal (API 1.42+)
	}
	NetworkingConfig networkingConfig
}

func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Image == "" {
		return errdefs.InvalidParameter(errorString("config cannot be empty in order to create a container"))
	}
	hc := req.HostConfig
	o := engine.RunOptions{
		ImageRef: req.Image, Name: strings.TrimPrefix(r.URL.Query().Get("name"), "/"),
		Args: req.Cmd, Env: req.Env, Dir: req.WorkingDir, User: req.User, Hostname: req.Hostname,
		Tty: req.Tty, OpenStdin: req.OpenStdin, AutoRemove: hc.AutoRemove, Labels: req.Labels, RestartPolicy: hc.RestartPolicy,
		Network: hc.NetworkMode, DNS: hc.Dns, Memory: hc.Memory, NanoCPUs: hc.NanoCpus,
		Privileged: hc.Privileged, CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, ReadonlyRootfs: hc.ReadonlyRootfs,
	}
	if o.Network == "" || o.Network == "default" {
		o.Network = "bridge"
	}
	o.Aliases = req.NetworkingConfig.aliases(o.Network)
	if hc.PidsLimit != nil {
		o.PidsLimit = *hc.PidsLimit
	}
	if hc.Init != nil {
		o.Init = *hc.Init
	}
	// Docker's Entrypoint is a list: its first word is ours, the rest go
	// before Cmd.
	if req.Entrypoint != nil {
		ep := ""
		if len(req.Entrypoint) > 0 {
			ep = req.Entrypoint[0]
			o.Args = append(append([]string{}, req.Entrypoint[1:]...), req.Cmd...)
		}
		o.Entrypoint = &ep
	}
	var err error
	if err = createMounts(&req, &o); err != nil {
		return err
	}
	for _, spec := range portSpecs(hc.PortBindings) {
		ms, err := portmap.Parse(spec)
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		o.Ports = append(o.Ports, ms...)
	}
	var priv privileges.Options
	if o.SecurityOpt, err = privileges.ParseSecurityOpts(hc.SecurityOpt, &priv); err != nil {
		return errdefs.InvalidParameter(err)
	}
	warnings := []string{}
	if hc.CpuShares != 0 {
		warnings = append(warnings, "CpuShares is not supported by minidocker and was ignored")
	}
	c, err := s.e.Create(o)
	if err != nil {
		return err
	}
	if req.Tty && hc.ConsoleSize[0] > 0 && hc.ConsoleSize[1] > 0 && hc.ConsoleSize[0] < 65536 && hc.ConsoleSize[1] < 65536 {
		// Kept for the start: the pty has this size before the command
		// starts (docker run's resize only comes after the start).
		s.mu.Lock()
		s.consoleSize[c.ID] = &engine.Size{Rows: uint16(hc.ConsoleSize[0]), Cols: uint16(hc.ConsoleSize[1])}
		s.mu.Unlock()
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"Id": c.ID, "Warnings": warnings})
}

// portSpecs turns PortBindings into -p specs: "127.0.0.1:8080:80/tcp".
func portSpecs(b map[string][]struct{ HostIp, HostPort string }) []string {
	var out []string
	for port, hosts := range b {
		if len(hosts) == 0 {
			out = append(out, port)
		}
		for _, h := range hosts {
			spec := port
			switch {
			case h.HostIp != "":
				spec = h.HostIp + ":" + h.HostPort + ":" + port
			case h.HostPort != "":
				spec = h.HostPort + ":" + port
			}
			out = append(out, spec)
		}
	}
	sort.Strings(out)
	return out
}

// containerSummary is one container of GET /containers/json.
type containerSummary struct {
	ID         string `json:"Id"`
	Names      []string
	Image      string
	ImageID    string
	Command    string
	Created    int64
	Ports      []portSummary
	SizeRw     int64 `json:",omitempty"` // with size=1
	SizeRootFs int64 `json:",omitempty"`
	Labels     map[string]string
	State      string
	Status     string
	HostConfig struct{ NetworkMode string }
	Mounts     []state.InspectMount
}

type portSummary struct {
	IP          string `json:"IP,omitempty"`
	PrivatePort int
	PublicPort  int `json:",omitempty"`
	Type        string
}

// statusText is docker ps's STATUS: "Up 3 seconds", "Exited (0) 2 minutes ago".
func statusText(st state.InspectState) string {
	switch {
	case st.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, humanDuration(time.Since(st.FinishedAt)))
	case st.Running && st.Paused:
		return "Up " + humanDuration(time.Since(st.StartedAt)) + " (Paused)"
	case st.Running:
		return "Up " + humanDuration(time.Since(st.StartedAt))
	case st.Status == state.Created:
		return "Created"
	}
	return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, humanDuration(time.Since(st.FinishedAt)))
}

func humanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case s < 120:
		return "About a minute"
	case s < 3600:
		return fmt.Sprintf("%d minutes", s/60)
	case s < 7200:
		return "About an hour"
	default:
		return fmt.Sprintf("%d hours", s/3600)
	}
}

func summary(in state.Inspect) containerSummary {
	cs := containerSummary{ID: in.ID, Names: []string{in.Name}, Image: in.Config.Image, ImageID: in.Image,
		Command: strings.Join(append([]string{in.Path}, in.Args...), " "), Created: in.Created.Unix(),
		Ports: []portSummary{}, Labels: in.Config.Labels, State: string(in.State.Status),
		Status: statusText(in.State), Mounts: in.Mounts}
	cs.HostConfig.NetworkMode = in.HostConfig.NetworkMode
	if cs.Labels == nil {
		cs.Labels = map[string]string{}
	}
	if cs.Mounts == nil {
		cs.Mounts = []state.InspectMount{}
	}
	ports := in.NetworkSettings.Ports
	if !in.State.Running {
		ports = in.HostConfig.PortBindings
	}
	for key, hosts := range ports {
		p, proto, _ := strings.Cut(key, "/")
		private, _ := strconv.Atoi(p)
		for _, h := range hosts {
			public, _ := strconv.Atoi(h.HostPort)
			ip := h.HostIP
			if ip == "" && public != 0 {
				ip = "0.0.0.0"
			}
			cs.Ports = append(cs.Ports, portSummary{IP: ip, PrivatePort: private, PublicPort: public, Type: proto})
		}
	}
	return cs
}

// filters is the filters query: {"name":{"web":true}} or the old
// {"name":["web"]}.
func filters(r *http.Request) (map[string][]string, error) {
	return parseFilters(r, "name", "id", "status", "label")
}

// parseFilters reads the filters query parameter (either JSON form the
// clients send), refusing keys not in allowed with dockerd's message.
func parseFilters(r *http.Request, allowed ...string) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter: %w", err))
	}
	for k, v := range m {
		var set map[string]bool
		if json.Unmarshal(v, &set) == nil {
			for x := range set {
				out[k] = append(out[k], x)
			}
			continue
		}
		var list []string
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter %q", k))
		}
		out[k] = list
	}
	for k := range out {
		if !slices.Contains(allowed, k) {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter '%s'", k))
		}
	}
	return out, nil
}

func matches(in state.Inspect, f map[string][]string) bool {
	any := func(vals []string, ok func(string) bool) bool {
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return any(f["name"], func(v string) bool { return strings.Contains(in.Name, strings.TrimPrefix(v, "/")) }) &&
		any(f["id"], func(v string) bool { return strings.HasPrefix(in.ID, v) }) &&
		any(f["status"], func(v string) bool { return string(in.State.Status) == v }) &&
		engine.MatchLabels(in.Config.Labels, f["label"])
}

func (s *Server) containerList(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	limit, err := intValue(r, "limit", -1)
	if err != nil {
		return err
	}
	all := boolValue(r, "all") || limit > 0 || len(f["status"]) > 0
	list, err := s.e.List(all)
	if err != nil {
		return err
	}
	var sizes map[string]engine.ContainerSize
	if boolValue(r, "size") {
		if sizes, err = s.e.ContainerSizes(); err != nil {
			return err
		}
	}
	out := []containerSummary{}
	for _, c := range list {
		in := c.Inspect()
		if !matches(in, f) {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		cs := summary(in)
		cs.SizeRw, cs.SizeRootFs = sizes[c.ID].SizeRw, sizes[c.ID].SizeRootFs
		out = append(out, cs)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) containerInspect(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

// containerStart starts the container; an attach or a wait that came
// before (docker run sends both first) is handed the start, so that no
// output and no exit is missed.
func (s *Server) containerStart(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	if in.State.Running {
		return errdefs.NotModified(fmt.Errorf("container %s is already running", in.ID))
	}
	s.mu.Lock()
	p := s.pending[in.ID]
	delete(s.pending, in.ID)
	waiters := s.waiters[in.ID]
	delete(s.waiters, in.ID)
	size := s.consoleSize[in.ID]
	delete(s.consoleSize, in.ID)
	s.mu.Unlock()
	if p == nil && len(waiters) == 0 {
		if _, err := s.e.Start(in.ID, nil); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	o := engine.AttachOptions{}
	if p != nil {
		<-p.answered
		o = p.options
	}
	o.Size = size
	started, err := s.e.Start(in.ID, &o)
	if err != nil {
		if p != nil {
			p.fail(err)
		}
		// The waits get the exit code dockerd records for a start that
		// failed: 127, 126, or 125.
		code := 125
		if se, ok := errors.AsType[*engine.StartError](err); ok {
			code = se.Code
		}
		for _, ch := range waiters {
			ch <- code
			close(ch)
		}
		return err
	}
	go func() {
		code, err := started.Wait()
		if errors.Is(err, engine.ErrDetached) {
			// The client detached (its detach keys): the waits wait on.
			if p != nil {
				p.finish()
			}
			code, err = s.e.Wait(context.Background(), in.ID)
		}
		if err != nil {
			s.log.Printf("container %s: %v", in.ID, err)
		} else {
			s.log.Printf("container %s exited %d: attach %v, %d waits told", state.ShortID(in.ID), code, p != nil, len(waiters))
		}
		if p != nil {
			p.finish()
		}
		for _, ch := range waiters {
			if err == nil {
				ch <- code
			}
			close(ch)
		}
	}()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerStop(w http.ResponseWriter, r *http.Request) error {
	t, err := intValue(r, "t", 10)
	if err != nil {
		return err
	}
	if err := s.e.Stop(r.PathValue("id"), time.Duration(t)*time.Second); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerKill(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("signal")
	if name == "" {
		name = "KILL"
	}
	sig, err := engine.ParseSignal(name)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if err := s.e.Kill(r.PathValue("id"), sig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerRestart(w http.ResponseWriter, r *http.Request) error {
	t, err := intValue(r, "t", 10)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.e.Stop(id, time.Duration(t)*time.Second); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	if _, err := s.e.Start(id, nil); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sizeValue is a resize's ?h=ROWS&w=COLS, checked.
func sizeValue(r *http.Request) (engine.Size, error) {
	h, err := intValue(r, "h", 0)
	if err != nil {
		return engine.Size{}, err
	}
	wd, err := intValue(r, "w", 0)
	if err != nil {
		return engine.Size{}, err
	}
	if h <= 0 || wd <= 0 || h > 65535 || wd > 65535 {
		return engine.Size{}, errdefs.InvalidParameter(fmt.Errorf("invalid size %dx%d", h, wd))
	}
	return engine.Size{Rows: uint16(h), Cols: uint16(wd)}, nil
}

func (s *Server) containerResize(w http.ResponseWriter, r *http.Request) error {
	size, err := sizeValue(r)
	if err != nil {
		return err
	}
	if err := s.e.Resize(r.PathValue("id"), size); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) containerDelete(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.e.Remove(in.ID, engine.RemoveOptions{Force: boolValue(r, "force"), Volumes: boolValue(r, "v")}); err != nil {
		return err
	}
	s.forget(in.ID, in.State.ExitCode)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forget drops what requests left for a container that will never start
// again: an attach and waits made before a start (the waits get its last
// exit code, as condition=removed wants), its console size.
func (s *Server) forget(id string, code int) {
	s.mu.Lock()
	p, waiters := s.pending[id], s.waiters[id]
	delete(s.pending, id)
	delete(s.waiters, id)
	delete(s.consoleSize, id)
	s.mu.Unlock()
	if p != nil {
		p.finish()
	}
	for _, ch := range waiters {
		ch <- code
		close(ch)
	}
}

// containerRename is POST /containers/{id}/rename?name=NEW: 204.
func (s *Server) containerRename(w http.ResponseWriter, r *http.Request) error {
	if err := s.e.Rename(r.PathValue("id"), r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerPause is POST /containers/{id}/pause: 204.
func (s *Server) containerPause(w http.ResponseWriter, r *http.Request) error {
	if err := s.e.Pause(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerUnpause is POST /containers/{id}/unpause: 204.
func (s *Server) containerUnpause(w http.ResponseWriter, r *http.Request) error {
	if err := s.e.Unpause(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerTop is GET /containers/{id}/top: ps -ef's columns. ps_args is
// not supported (the columns are fixed).
func (s *Server) containerTop(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.e.Top(r.PathValue("id"))
	if err != nil {
		return err
	}
	if rows == nil {
		rows = [][]string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"Titles": engine.TopTitles, "Processes": rows})
}
