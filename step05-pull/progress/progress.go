// Package progress shows a pull the way docker pull does: a line per
// layer whose status changes as the layer goes from "Pulling fs layer" to
// "Pull complete", then the digest and a status line.
//
// On a terminal the lines are redrawn in place (ANSI: cursor up, clear
// line) with a bar while a layer downloads; anywhere else (a pipe, a log,
// a test) each change is one plain line, and "Downloading" is printed once
// per layer rather than for every chunk.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/term"

	"minidocker/internal/units"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// Printer prints one pull. Its methods are safe for concurrent use.
type Printer struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	order []string          // layer IDs in the order they first appeared
	line  map[string]string // layer ID -> its current line (tty)
	seen  map[string]string // layer ID -> last status printed (plain)
	drawn int               // lines drawn by the last redraw (tty)
}

// New returns a Printer writing to w; tty selects the live display.
func New(w io.Writer, tty bool) *Printer {
	return &Printer{w: w, tty: tty, line: map[string]string{}, seen: map[string]string{}}
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Start prints the first line: "latest: Pulling from library/busybox".
func (p *Printer) Start(ref reference.Reference) {
	id := ref.Tag()
	if ref.Digest() != "" {
		id = ref.Digest().String()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s: Pulling from %s\n", id, ref.Path())
}

// Event shows one layer's new status.
func (p *Printer) Event(e registry.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.line[e.ID]; !ok {
		p.order = append(p.order, e.ID)
	}
	if !p.tty {
		// Downloading once, every other status once per change.
		if e.Status != p.seen[e.ID] {
			fmt.Fprintf(p.w, "%s: %s\n", e.ID, e.Status)
			p.seen[e.ID] = e.Status
		}
		p.line[e.ID] = e.Status
		return
	}
	text := e.Status
	if e.Status == registry.StatusDownloading && e.Total > 0 {
		text = fmt.Sprintf("%s %s %s/%s", e.Status, bar(e.Current, e.Total, 40), units.HumanSize(e.Current), units.HumanSize(e.Total))
	}
	p.line[e.ID] = text
	p.redraw()
}

// redraw moves the cursor back over the layer lines and draws them again.
func (p *Printer) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, id := range p.order {
		fmt.Fprintf(&b, "\x1b[2K%s: %s\n", id, p.line[id])
	}
	p.drawn = len(p.order)
	io.WriteString(p.w, b.String())
}

// bar is "[=====>      ]", width characters inside the brackets.
func bar(cur, total int64, width int) string {
	n := int(min(cur, total) * int64(width) / total)
	if n >= width {
		return "[" + strings.Repeat("=", width) + "]"
	}
	return "[" + strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n-1) + "]"
}

// Done prints the end: the digest, and whether anything new came.
func (p *Printer) Done(d digest.Digest, ref reference.Reference, fresh bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "Digest: %s\n", d)
	if fresh {
		fmt.Fprintf(p.w, "Status: Downloaded newer image for %s\n", ref.FamiliarString())
	} else {
		fmt.Fprintf(p.w, "Status: Image is up to date for %s\n", ref.FamiliarString())
	}
}

// PushPrinter prints one push the way docker push does: the repository,
// a line per layer ("Preparing", "Pushing", "Pushed", "Layer already
// exists", "Mounted from …"), then the tag's digest and size.
type PushPrinter struct{ *Printer }

// Start prints "The push refers to repository [docker.io/library/busybox]".
func (p PushPrinter) Start(ref reference.Reference) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "The push refers to repository [%s]\n", ref.Name())
}

// Done prints "v1: digest: sha256:… size: 527".
func (p PushPrinter) Done(ref reference.Reference, m ocispec.Descriptor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, registry.FormatPushed(ref.Tag(), m))
}
