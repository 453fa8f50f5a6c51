// Package onnxpb holds the Go types of the ONNX protobuf schema, generated from
// the onnx.proto that Debian's libonnx-dev ships (ONNX 1.12, IR version 8).
//
// Regenerate with `go generate ./dnn/onnx/onnxpb` after installing
// protobuf-compiler, libonnx-dev and protoc-gen-go.
package onnxpb

//go:generate sh -c "protoc -I/usr/include/onnx --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/tandem-edge/tandem/dnn/onnx/onnxpb /usr/include/onnx/onnx.proto"
