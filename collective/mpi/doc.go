// Package mpi is a collective.Communicator over MPI_COMM_WORLD (OpenMPI,
// through cgo; build with -tags mpi and the OpenMPI development files,
// pkg-config ompi-c). Without the tag, World returns an error wrapping
// ErrNotCompiled.
//
// One process per rank (mpirun -np N), each with its own device: the
// buffers stay on that device and are copied to the host around each
// collective. AllReduce is deterministic and bitwise identical on every
// rank: it gathers every rank's contribution (MPI_Allgather) and combines
// them in rank order with collective.Combine, rather than MPI_Allreduce,
// whose summation order depends on the algorithm MPI picks. Before the
// data, every rank's (length, dtype, op) is gathered too, so a mismatch is
// a *collective.Error on every rank instead of a hang or a wrong result.
//
// Init must be called once before World, Finalize once at the end of the
// program; MPI calls are serialized by a lock (MPI_THREAD_SERIALIZED), so
// a Communicator may be used from any goroutine, one call at a time per
// process.
package mpi
