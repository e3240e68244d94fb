package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"minidocker/final/engine"
	"minidocker/final/state"
	"minidocker/internal/units"
)

// docker ps --filter and --format, as the docker CLI does them.

// psFilter is ps's --filter values: KEY=VALUE, the values of one key OR'd,
// different keys AND'd.
type psFilter map[string][]string

func parsePSFilters(args []string) (psFilter, error) {
	f := psFilter{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		switch k {
		case "id", "name", "status", "exited", "ancestor", "label":
		default:
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
		if k == "status" {
			switch v {
			case "created", "restarting", "running", "removing", "paused", "exited", "dead":
			default:
				return nil, fmt.Errorf("invalid filter 'status=%s'", v)
			}
		}
		if k == "exited" {
			if _, err := strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("invalid filter 'exited=%s'", v)
			}
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

// showsAll: filtering on status or exit code looks at every container, as
// docker ps does without -a.
func (f psFilter) showsAll() bool { return len(f["status"]) > 0 || len(f["exited"]) > 0 }

func (f psFilter) match(c *state.Container) bool {
	any := func(key string, ok func(string) bool) bool {
		vs := f[key]
		if len(vs) == 0 {
			return true
		}
		for _, v := range vs {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("name", func(v string) bool {
			re, err := regexp.Compile(v)
			return err == nil && re.MatchString(c.Name)
		}) &&
		any("status", func(v string) bool { return stateOf(c) == v }) &&
		any("exited", func(v string) bool {
			return c.State.Status == state.Exited && strconv.Itoa(c.State.ExitCode) == v
		}) &&
		any("ancestor", func(v string) bool {
			return c.Config.Image == v || strings.TrimSuffix(c.Config.Image, ":latest") == strings.TrimSuffix(v, ":latest") ||
				strings.HasPrefix(strings.TrimPrefix(c.Config.ImageID, "sha256:"), strings.TrimPrefix(v, "sha256:"))
		}) &&
		engine.MatchLabels(c.Config.Labels, f["label"]) // AND'd, as docker ps does
}

// stateOf is docker ps's .State: created, running, paused, exited.
func stateOf(c *state.Container) string {
	switch {
	case c.State.Running && c.State.Paused:
		return "paused"
	case c.State.Running:
		return "running"
	}
	return string(c.State.Status)
}

// psHeaders are the docker CLI's column names for each field.
var psHeaders = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
	"Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES",
}

// psFields is one container as ps's templates see it: its fields by
// name, and {{.Label "k"}}. The labels ride along under keys no template
// can name (they have a space), left out of {{json .}}.
type psFields map[string]string

const labelKey = "label "

// Label is {{.Label "com.example.k"}}: the label's value, "" when unset.
func (f psFields) Label(name string) string { return f[labelKey+name] }

// MarshalJSON is {{json .}}: the fields, without the labels' own keys.
func (f psFields) MarshalJSON() ([]byte, error) {
	out := map[string]string{}
	for k, v := range f {
		if !strings.HasPrefix(k, labelKey) {
			out[k] = v
		}
	}
	return json.Marshal(out)
}

// psHeader is the table's header row: {{.Label "com.example.some-key"}}
// is headed "some key", as the docker CLI heads it.
type psHeader map[string]string

// Label is the header of a label's column: the last dot-separated part of
// its name, '-' and '_' as spaces.
func (psHeader) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

// psSize is docker ps -s's SIZE: "2B (virtual 4.26MB)".
func psSize(s engine.ContainerSize) string {
	rw := units.HumanSize(s.SizeRw)
	if s.SizeRootFs > 0 {
		return rw + " (virtual " + units.HumanSize(s.SizeRootFs) + ")"
	}
	return rw
}

// psRow is one container as ps's templates see it; size is "" unless -s.
func psRow(c *state.Container, now time.Time, noTrunc bool, size string) psFields {
	id := c.ShortID()
	if noTrunc {
		id = c.ID
	}
	var mounts []string
	for _, m := range c.Config.Mounts {
		mounts = append(mounts, m.Source)
	}
	network := c.Config.Network
	if network == "" {
		network = "bridge"
	}
	row := psFields{
		"ID": id, "Image": c.Config.Image, "Command": command(c, noTrunc),
		"CreatedAt":  c.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
		"RunningFor": units.HumanDuration(now.Sub(c.Created)) + " ago",
		"Ports":      ports(c), "State": stateOf(c), "Status": status(c, now), "Size": size,
		"Names": c.Name, "Labels": engine.FormatLabels(c.Config.Labels), "Mounts": strings.Join(mounts, ","), "Networks": network, "LocalVolumes": "0",
	}
	for k, v := range c.Config.Labels {
		row[labelKey+k] = v
	}
	return row
}

// templateFuncs are the docker CLI's template functions that ps formats use.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"truncate": func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n])
		}
		return s
	},
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
}

// formatPS writes rows with a --format template: "table ..." gets the
// headers and aligned columns, anything else one line per container.
// Literal \t and \n in the format are a tab and a newline, as the docker
// CLI reads them.
func formatPS(w io.Writer, format string, rows []psFields) error {
	table := strings.HasPrefix(format, "table")
	if table {
		format = strings.TrimPrefix(format, "table")
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(strings.TrimSpace(format))
	tmpl, err := template.New("ps").Funcs(templateFuncs).Option("missingkey=error").Parse(format)
	if err != nil {
		return fmt.Errorf("template parsing error: %v", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := tmpl.Execute(out, psHeader(psHeaders)); err != nil {
			return fmt.Errorf("template: %v", err)
		}
		fmt.Fprintln(out)
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return fmt.Errorf("template: %v", err)
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
