package portmap_test

import (
	"fmt"

	"minidocker/step06-networking/portmap"
)

func ExampleParse() {
	for _, spec := range []string{"8080:80", "127.0.0.1:5353:53/udp", "8000-8001:80-81", "80", "8080:http"} {
		ms, err := portmap.Parse(spec)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(portmap.Format(ms))
	}
	// Output:
	// 0.0.0.0:8080->80/tcp
	// 127.0.0.1:5353->53/udp
	// 0.0.0.0:8000-8001->80-81/tcp
	// 80/tcp
	// invalid containerPort: http
}
