// Code generation, step 1 of 3 (run by gmavenplus-plugin): start a throwaway PostgreSQL 15 from zonky's embedded
// binaries, so that generating needs no server and no Docker, and hand its URL to flyway-maven-plugin (step 2)
// and jooq-codegen-maven (step 3) through the project property codegen.db.url.
//
// Generating takes seconds, so it is skipped when nothing it depends on changed: the digest covers db/,
// codegen/ and pom.xml (where the jOOQ and Flyway versions live, so an upgrade regenerates).
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres
import java.security.MessageDigest

def base = project.basedir
def md5 = MessageDigest.getInstance('MD5')
def inputs = [new File(base, 'db/migration'), new File(base, 'codegen')].collectMany { it.listFiles().toList() }
(inputs + new File(base, 'pom.xml')).sort { it.path }.each { file ->
    md5.update(file.path.substring(base.path.length()).getBytes('UTF-8'))
    md5.update(file.bytes)
}
def digest = md5.digest().encodeHex().toString()
def stamp = new File(project.properties['jooq.generated.dir'], '.codegen-digest')
project.properties['codegen.digest'] = digest

if (stamp.file && stamp.text == digest) {
    log.info("jOOQ classes are up to date with db/ (digest ${digest})")
    project.properties['codegen.skip'] = 'true'
    return
}
project.properties['codegen.skip'] = 'false'
def postgres = EmbeddedPostgres.builder().start()
project.setContextValue('codegen.postgres', postgres)
project.properties['codegen.db.url'] = postgres.getJdbcUrl('postgres', 'postgres')
log.info("Embedded PostgreSQL for code generation at ${project.properties['codegen.db.url']}")
