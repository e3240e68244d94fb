package state

import (
	"strconv"
	"time"
)

// Inspect is the subset of docker inspect's JSON that minidocker can fill,
// with docker's field names and order, so that scripts written for
// "docker inspect -f '{{.State.Pid}}'" or '{{.NetworkSettings.IPAddress}}'
// work unchanged. Encode a []Inspect with json.MarshalIndent(v, "", "    ")
// to get docker's layout.
type Inspect struct {
	ID              string `json:"Id"`
	Created         time.Time
	Path            string
	Args            []string
	State           InspectState
	Image           string // the image ID
	LogPath         string
	Name            string // with the leading "/"
	RestartCount    int
	HostConfig      InspectHostConfig
	Mounts          []InspectMount
	Config          InspectConfig
	NetworkSettings InspectNetworkSettings
}

// InspectState is docker inspect's State.
type InspectState struct {
	Status     Status
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// InspectHostConfig is the part of docker inspect's HostConfig that
// minidocker supports.
type InspectHostConfig struct {
	NetworkMode    string
	Dns            []string
	PortBindings   PortMap
	AutoRemove     bool
	RestartPolicy  RestartPolicy
	Memory         int64
	NanoCpus       int64
	PidsLimit      *int64
	Init           *bool
	Privileged     bool
	CapAdd         []string
	CapDrop        []string
	SecurityOpt    []string
	ReadonlyRootfs bool
}

// InspectMount is one entry of docker inspect's Mounts.
type InspectMount struct {
	Type        string
	Name        string `json:",omitempty"`
	Source      string
	Destination string
	Driver      string `json:",omitempty"`
	Mode        string
	RW          bool
	Propagation string
}

// InspectConfig is the part of docker inspect's Config that minidocker
// supports.
type InspectConfig struct {
	Hostname   string
	User       string
	Tty        bool
	OpenStdin  bool
	Env        []string
	Cmd        []string
	Image      string
	WorkingDir string
	Entrypoint []string
	StopSignal string `json:",omitempty"`
	Labels     map[string]string
}

// InspectNetworkSettings is the part of docker inspect's NetworkSettings
// that minidocker supports.
type InspectNetworkSettings struct {
	Ports     PortMap
	Gateway   string
	IPAddress string
}

// PortMap is docker's "80/tcp" -> [{HostIp, HostPort}] map.
type PortMap map[string][]InspectPortBinding

// InspectPortBinding is one host side of a published port; docker writes
// the port as a string.
type InspectPortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string
}

// Inspect returns c in docker inspect's shape.
func (c *Container) Inspect() Inspect {
	cfg := &c.Config
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	in := Inspect{
		ID:      c.ID,
		Created: c.Created,
		Args:    []string{},
		State: InspectState{
			Status:     c.State.Status,
			Running:    c.State.Running,
			Paused:     c.State.Paused,
			OOMKilled:  c.State.OOMKilled,
			Dead:       false,
			Pid:        c.State.Pid,
			ExitCode:   c.State.ExitCode,
			Error:      c.State.Error,
			StartedAt:  c.State.StartedAt,
			FinishedAt: c.State.FinishedAt,
		},
		Image:        cfg.ImageID,
		LogPath:      cfg.LogPath,
		Name:         "/" + c.Name,
		RestartCount: c.State.RestartCount,
		HostConfig: InspectHostConfig{
			NetworkMode:    cfg.Network,
			Dns:            append([]string{}, cfg.DNS...),
			PortBindings:   PortMap{},
			AutoRemove:     cfg.AutoRemove,
			RestartPolicy:  cfg.RestartPolicy,
			Memory:         cfg.Memory,
			NanoCpus:       cfg.NanoCPUs,
			Privileged:     cfg.Privileged,
			CapAdd:         cfg.CapAdd,
			CapDrop:        cfg.CapDrop,
			SecurityOpt:    cfg.SecurityOpt,
			ReadonlyRootfs: cfg.ReadonlyRootfs,
		},
		Mounts: []InspectMount{},
		Config: InspectConfig{
			Hostname:   cfg.Hostname,
			User:       cfg.User,
			Tty:        cfg.Tty,
			OpenStdin:  cfg.OpenStdin,
			Env:        cfg.Env,
			Cmd:        cfg.Cmd,
			Image:      cfg.Image,
			WorkingDir: cfg.WorkingDir,
			Entrypoint: cfg.Entrypoint,
			StopSignal: cfg.StopSignal,
			Labels:     map[string]string{},
		},
		NetworkSettings: InspectNetworkSettings{
			Ports:     PortMap{},
			Gateway:   cfg.Gateway,
			IPAddress: cfg.IPAddress,
		},
	}
	for k, v := range cfg.Labels {
		in.Config.Labels[k] = v
	}
	if len(argv) > 0 {
		in.Path, in.Args = argv[0], argv[1:]
	}
	if cfg.PidsLimit != 0 {
		in.HostConfig.PidsLimit = &cfg.PidsLimit
	}
	if cfg.Init {
		in.HostConfig.Init = &cfg.Init
	}
	for _, m := range cfg.Mounts {
		im := InspectMount{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: m.RW}
		switch m.Type {
		case "bind": // as docker shows them: a bind's propagation, a volume's driver
			im.Propagation = m.Propagation
			if im.Propagation == "" {
				im.Propagation = "rprivate"
			}
		case "volume":
			im.Driver = "local"
		}
		in.Mounts = append(in.Mounts, im)
	}
	for _, p := range cfg.Ports {
		key := strconv.Itoa(int(p.ContainerPort)) + "/" + p.Protocol
		port := strconv.Itoa(int(p.HostPort))
		in.HostConfig.PortBindings[key] = append(in.HostConfig.PortBindings[key],
			InspectPortBinding{HostIP: p.HostIP, HostPort: port})
		if !c.State.Running {
			continue // docker shows the bound ports of a running container only
		}
		hostIP := p.HostIP
		if hostIP == "" {
			hostIP = "0.0.0.0" // what docker shows for "all addresses"
		}
		in.NetworkSettings.Ports[key] = append(in.NetworkSettings.Ports[key],
			InspectPortBinding{HostIP: hostIP, HostPort: port})
	}
	if c.State.Paused && c.State.Running {
		in.State.Status = Paused
	}
	if in.HostConfig.RestartPolicy.Name == "" {
		in.HostConfig.RestartPolicy.Name = "no" // what dockerd shows
	}
	if c.State.Restarting {
		// Docker counts a restarting container as running (stop, kill and
		// rm treat it so), with no PID.
		in.State.Status, in.State.Running, in.State.Restarting = Restarting, true, true
	}
	return in
}
