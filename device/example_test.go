package device_test

import (
	"errors"
	"fmt"

	_ "github.com/lossengine/lossengine/backends"
	"github.com/lossengine/lossengine/device"
)

// Opening devices by name; a backend left out of the build names its tag.
func ExampleOpen() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	fmt.Println(dev.Info().Name)
	_, err = device.Open("quantum")
	fmt.Println(errors.Is(err, device.ErrUnknown))
	// Output:
	// host
	// true
}
