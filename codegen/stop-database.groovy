// Code generation, after step 3: stop the embedded PostgreSQL and stamp the classes with the digest of what they
// were generated from (see start-database.groovy). Typed dynamically: the server object comes from another
// execution's class loader.
def postgres = project.getContextValue('codegen.postgres')
if (postgres != null) {
    postgres.close()
    project.setContextValue('codegen.postgres', null)
    new File(project.properties['jooq.generated.dir'], '.codegen-digest').text = project.properties['codegen.digest']
}
