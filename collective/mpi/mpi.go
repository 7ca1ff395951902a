//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <mpi.h>

static int le_mpi_init(int *provided) {
	int f = 0;
	MPI_Initialized(&f);
	if (f) {
		MPI_Query_thread(provided);
		return MPI_SUCCESS;
	}
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static int le_mpi_finalize(void) {
	int f = 0;
	MPI_Finalized(&f);
	return f ? MPI_SUCCESS : MPI_Finalize();
}
static int le_mpi_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int le_mpi_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int le_mpi_allgather_int(const int *send, int n, int *recv) {
	return MPI_Allgather(send, n, MPI_INT, recv, n, MPI_INT, MPI_COMM_WORLD);
}
static int le_mpi_allgather_double(const double *send, int n, double *recv) {
	return MPI_Allgather(send, n, MPI_DOUBLE, recv, n, MPI_DOUBLE, MPI_COMM_WORLD);
}
static int le_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
)

var mu sync.Mutex // serializes every MPI call of this process

// Init initializes MPI (MPI_Init_thread, serialized), once per process;
// calling it again is a no-op.
func Init() error {
	mu.Lock()
	defer mu.Unlock()
	var provided C.int
	if rc := C.le_mpi_init(&provided); rc != C.MPI_SUCCESS {
		return fmt.Errorf("mpi: MPI_Init_thread failed (code %d)", int(rc))
	}
	if provided < C.le_mpi_thread_serialized() {
		return fmt.Errorf("mpi: the MPI library provides thread level %d, below MPI_THREAD_SERIALIZED", int(provided))
	}
	return nil
}

// Finalize shuts MPI down (MPI_Finalize); later calls are no-ops.
func Finalize() error {
	mu.Lock()
	defer mu.Unlock()
	if rc := C.le_mpi_finalize(); rc != C.MPI_SUCCESS {
		return fmt.Errorf("mpi: MPI_Finalize failed (code %d)", int(rc))
	}
	return nil
}

// World returns the communicator of MPI_COMM_WORLD for buffers on dev
// (this process's device). Init must have been called.
func World(dev device.Device) (collective.Communicator, error) {
	if dev == nil {
		return nil, fmt.Errorf("mpi: World: device is nil")
	}
	mu.Lock()
	defer mu.Unlock()
	var r, s C.int
	if rc := C.le_mpi_rank(&r); rc != C.MPI_SUCCESS {
		return nil, fmt.Errorf("mpi: MPI_Comm_rank failed (code %d); was Init called?", int(rc))
	}
	if rc := C.le_mpi_size(&s); rc != C.MPI_SUCCESS {
		return nil, fmt.Errorf("mpi: MPI_Comm_size failed (code %d)", int(rc))
	}
	return &world{dev: dev, rank: int(r), size: int(s)}, nil
}

type world struct {
	dev        device.Device
	rank, size int
}

func (w *world) Rank() int { return w.rank }
func (w *world) Size() int { return w.size }

// AllReduce gathers (length, dtype, op, ok) from every rank, then, when
// all agree, every rank's values as float64, and combines them in rank
// order (collective.Combine). A bad argument on one rank still takes part
// in the first gather, so every rank returns an error.
func (w *world) AllReduce(buf device.Buffer, op collective.Op) error {
	bad := collective.CheckBuffer(w.rank, buf)
	if bad == nil && buf.Device() != w.dev {
		bad = &collective.Error{Op: "allreduce", Rank: w.rank, Msg: "buffer is not on the communicator's device"}
	}
	if bad == nil && !op.Valid() {
		bad = &collective.Error{Op: "allreduce", Rank: w.rank, Msg: fmt.Sprintf("unknown op %d", int(op))}
	}
	var v []float64
	if bad == nil {
		var err error
		if v, err = collective.ReadFloat64(buf); err != nil {
			bad = &collective.Error{Op: "allreduce", Rank: w.rank, Msg: "reading the buffer: " + err.Error(), Err: err}
		}
	}
	desc := [4]C.int{C.int(len(v)), 0, C.int(op), 1}
	if bad != nil {
		desc[3] = 0
	} else {
		desc[1] = C.int(buf.DType())
	}
	all := make([]C.int, 4*w.size)
	mu.Lock()
	defer mu.Unlock()
	if rc := C.le_mpi_allgather_int(&desc[0], 4, &all[0]); rc != C.MPI_SUCCESS {
		return &collective.Error{Op: "allreduce", Rank: w.rank, Msg: fmt.Sprintf("MPI_Allgather failed (code %d)", int(rc))}
	}
	if bad != nil {
		return bad
	}
	parts := make([][]float64, w.size)
	dtypes := make([]device.DType, w.size)
	ops := make([]collective.Op, w.size)
	for q := range w.size {
		if all[4*q+3] == 0 {
			return &collective.Error{Op: "allreduce", Rank: w.rank, Msg: fmt.Sprintf("rank %d gave a bad argument", q)}
		}
		parts[q] = make([]float64, int(all[4*q]))
		dtypes[q], ops[q] = device.DType(all[4*q+1]), collective.Op(all[4*q+2])
	}
	if msg := collective.Agree(parts, dtypes, ops); msg != "" {
		return &collective.Error{Op: "allreduce", Rank: w.rank, Msg: msg}
	}
	n := len(v)
	if n == 0 {
		return nil
	}
	recv := make([]float64, n*w.size)
	if rc := C.le_mpi_allgather_double((*C.double)(unsafe.Pointer(&v[0])), C.int(n),
		(*C.double)(unsafe.Pointer(&recv[0]))); rc != C.MPI_SUCCESS {
		return &collective.Error{Op: "allreduce", Rank: w.rank, Msg: fmt.Sprintf("MPI_Allgather failed (code %d)", int(rc))}
	}
	for q := range parts {
		parts[q] = recv[q*n : (q+1)*n]
	}
	res := make([]float64, n)
	collective.Combine(res, parts, op)
	return collective.WriteFloat64(buf, res)
}
