// Package collective is the communication layer of the losses that span
// several processes or devices, such as the vocabulary-parallel
// cross-entropy (losses.VocabParallelCrossEntropy): each rank holds one
// part of a tensor, and a Communicator combines a small buffer of every
// rank's partial results into the same result on every rank.
//
// Conventions:
//
//   - A rank's buffer lives on that rank's own device (device.Buffer); an
//     implementation moves it as it needs. The local and MPI communicators
//     read it back to the host, combine, and write the result back; an
//     NCCL communicator would reduce in place on the GPU.
//   - Results are deterministic and bitwise identical on every rank: the
//     communicators of this module combine the contributions in rank order
//     (rank 0 first), never in an order set by timing or by the transport's
//     algorithm.
//   - Every rank of a group must make the same sequence of AllReduce calls
//     with buffers of the same length and dtype. A mismatch that the
//     communicator sees (lengths, dtypes, ops) is an *Error on every rank;
//     a rank that never calls leaves the others waiting, as in any
//     collective library.
//
// Multi-GPU use: run one process per GPU, each opening its own device, and
// connect them with a Communicator of the transport at hand (collective/mpi
// under the mpi build tag); within one process, NewLocal gives n
// communicators whose ranks are goroutines, one per device.
package collective
