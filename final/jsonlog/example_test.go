package jsonlog_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"minidocker/final/jsonlog"
)

func ExampleLogger_Stream() {
	clock := func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC) }
	l := jsonlog.New(os.Stdout, clock)
	stdout := l.Stream(jsonlog.Stdout)
	fmt.Fprintln(stdout, "hello")
	stdout.Close()
	// Output:
	// {"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}
}

func ExampleRead() {
	file := []byte(`{"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.5Z"}
{"log":"oops\n","stream":"stderr","time":"2026-11-22T10:00:01Z"}
{"log":"bye\n","stream":"stdout","time":"2026-11-22T10:00:02.123456789Z"}
`)
	// docker logs -t --tail 2, with stderr sent to stdout to show the order.
	opts := jsonlog.ReadOptions{Tail: 2, Timestamps: true}
	if err := jsonlog.Read(bytes.NewReader(file), opts, os.Stdout, os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2026-11-22T10:00:01.000000000Z oops
	// 2026-11-22T10:00:02.123456789Z bye
}
