"""A network between, for `make bench`: a TCP proxy from 127.0.0.1:LISTEN to 127.0.0.1:TARGET that
delays every reply of the server by DELAY milliseconds. Stops on SIGTERM.

    delay_proxy.py LISTEN TARGET DELAY
"""
import asyncio
import signal
import sys

LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000


async def pipe(reader, writer, delay):
    try:
        while data := await reader.read(65536):
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", TARGET)
    await asyncio.gather(pipe(client_reader, server_writer, 0), pipe(server_reader, client_writer, DELAY))


async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await stop.wait()


asyncio.run(main())
