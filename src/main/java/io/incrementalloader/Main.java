package io.incrementalloader;

import io.incrementalloader.cli.LoaderCommand;

public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(LoaderCommand.execute(args));
    }
}
