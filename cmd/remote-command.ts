/** What push/pull run on the remote host through ssh unless `--remote-cmd` says otherwise. */
export const DEFAULT_REMOTE_COMMAND = ['zferry', 'serve', '--stdio'];
