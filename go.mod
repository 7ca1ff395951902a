module github.com/lossengine/lossengine

go 1.22

require (
	github.com/jgillich/go-opencl v0.0.0-20180608191952-a0efba3e5257
	github.com/stretchr/testify v1.12.1
	golang.org/x/sys v0.30.0
	gonum.org/v1/gonum v0.15.1
	gorgonia.org/cu v0.9.6
)

require (
	github.com/google/uuid v1.1.1 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
