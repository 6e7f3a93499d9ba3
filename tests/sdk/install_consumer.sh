#!/bin/sh
# Installs FedHub's SDK component from a build tree into a scratch prefix, then configures,
# builds and runs the consumer project against that prefix only.
#
#   install_consumer.sh <cmake> <build_dir> <consumer_src> <work_dir> [<make_program>] [<cxx_flags>]
set -eu

cmake=$1
build_dir=$2
consumer_src=$3
work_dir=$4
make_program=${5:-}
cxx_flags=${6:-}

rm -rf "$work_dir"
mkdir -p "$work_dir/certs"
prefix=$work_dir/prefix

echo "== building the SDK libraries in $build_dir"
"$cmake" --build "$build_dir" --target fedhub_sdk

echo "== installing component sdk into $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" --component sdk
if [ -e "$prefix/bin/fedhubd" ]; then
  echo "the sdk component must not install fedhubd" >&2
  exit 1
fi

echo "== configuring the consumer"
set -- -S "$consumer_src" -B "$work_dir/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
if [ -n "$make_program" ]; then set -- "$@" -DCMAKE_MAKE_PROGRAM="$make_program"; fi
if [ -n "$cxx_flags" ]; then set -- "$@" -DCMAKE_CXX_FLAGS="$cxx_flags"; fi
"$cmake" "$@"

echo "== building the consumer"
"$cmake" --build "$work_dir/build"

echo "== making a development CA and the courses platform's certificate"
certs=$work_dir/certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=fedhub test ca" -keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=courses" -keyout "$certs/courses.key" -out "$certs/courses.csr" 2>/dev/null
printf 'subjectAltName=URI:spiffe://fedhub/platform/courses\n' > "$certs/ext.cnf"
openssl x509 -req -in "$certs/courses.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" \
  -CAcreateserial -days 1 -extfile "$certs/ext.cnf" -out "$certs/courses.crt" 2>/dev/null

echo "== running the consumer"
# A Unix socket path that nothing listens on: unreachable without picking a port.
"$work_dir/build/fedhub_consumer" "$certs" "unix:$work_dir/no-hub.sock"
