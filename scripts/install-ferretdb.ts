// `npm run db:install`: finds FerretDB or builds it once with Go, showing progress, and
// prints its path. The server and the tests do the same on demand; CI calls this first
// so the build shows as a step of its own.
import { findOrBuildFerretdb } from '../src/db/embedded/ferretdb';

findOrBuildFerretdb(process.env.FERRETDB_BIN || undefined, (line) => console.log(line)).then(
  (binary) => console.log(`FerretDB ready: ${binary}`),
  (err: Error) => {
    console.error(`FerretDB could not be installed: ${err.message}`);
    console.error('Install Go 1.21+ (https://go.dev/dl/), set FERRETDB_BIN to a FerretDB 1.24 binary, or set MONGODB_URI.');
    process.exit(1);
  },
);
