package reference_test

import (
	"fmt"

	"minidocker/step05-pull/reference"
)

func ExampleParse() {
	for _, s := range []string{"busybox", "user/app:1.0", "localhost:5000/x"} {
		r, err := reference.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-17s -> %-32s GET %s/v2/%s/manifests/%s\n", s, r, r.Host(), r.Path(), r.Identifier())
	}
	_, err := reference.Parse("nginx:")
	fmt.Println(err)
	// Output:
	// busybox           -> docker.io/library/busybox:latest GET registry-1.docker.io/v2/library/busybox/manifests/latest
	// user/app:1.0      -> docker.io/user/app:1.0           GET registry-1.docker.io/v2/user/app/manifests/1.0
	// localhost:5000/x  -> localhost:5000/x:latest          GET localhost:5000/v2/x/manifests/latest
	// invalid reference format
}

func ExampleReference_Familiar() {
	r := reference.MustParse("docker.io/library/nginx:1.27")
	fmt.Println(r.Familiar())
	fmt.Println(r.FamiliarString())
	// Output:
	// nginx
	// nginx:1.27
}
