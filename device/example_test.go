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

// Typed transfers: the element type is checked when the program compiles.
func ExampleUpload() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	b, err := device.Upload(dev, []float32{1, 2, 3})
	if err != nil {
		panic(err)
	}
	defer b.Release()
	v, err := device.Download[float32](dev, b, 2)
	fmt.Println(v, err, b.DType())
	_, err = device.Download[int32](dev, b, 2)
	fmt.Println(err)
	// Output:
	// [1 2] <nil> float32
	// device: buffer is float32, not int32
}
